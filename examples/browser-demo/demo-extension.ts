import { fileURLToPath } from 'node:url';
import type { CoordinatorExtension } from '@fedrec/coordinator';
import { BROWSER_ASSETS_DIR, assetsMissingPage, serveBrowserAssets } from '@fedrec/dashboard/static.js';
import type { Catalog } from './catalog-types.js';

const PAGE = fileURLToPath(new URL('./app/index.html', import.meta.url));

/** Serves the demo page at /demo and its item catalogue (titles only; no user data) at /demo/catalog.json. */
export function demoExtension(catalog: Catalog, assetsDir: string = BROWSER_ASSETS_DIR): CoordinatorExtension {
  return {
    name: 'browser-demo',
    attach({ routes }) {
      serveBrowserAssets(routes, assetsDir);
      routes.get('/demo/catalog.json', (_req, res) => {
        res.json(catalog);
      });
      routes.get(['/demo', '/demo/'], (_req, res) => {
        const missing = assetsMissingPage('demo.js', assetsDir);
        if (missing) res.status(503).type('html').send(missing);
        else res.sendFile(PAGE);
      });
    },
  };
}
