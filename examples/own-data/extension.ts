import { fileURLToPath } from 'node:url';
import type { CoordinatorExtension } from '@fedrec/coordinator';
import { BROWSER_ASSETS_DIR, assetsMissingPage, serveBrowserAssets } from '@fedrec/dashboard/static.js';

const PAGE = fileURLToPath(new URL('./app/index.html', import.meta.url));

/** Serves the "bring your own file" page at /own-data; the events it loads stay in the browser. */
export function ownDataExtension(assetsDir: string = BROWSER_ASSETS_DIR): CoordinatorExtension {
  return {
    name: 'own-data',
    attach({ routes }) {
      serveBrowserAssets(routes, assetsDir);
      routes.get(['/own-data', '/own-data/'], (_req, res) => {
        const missing = assetsMissingPage('own-data.js', assetsDir);
        if (missing) res.status(503).type('html').send(missing);
        else res.sendFile(PAGE);
      });
    },
  };
}
