import { fileURLToPath } from 'node:url';
import type { CoordinatorExtension } from '@fedrec/coordinator';
import { serveFavicon } from './favicon.js';
import { DashboardFeed, type DashboardFeedOptions } from './feed.js';
import { BROWSER_ASSETS_DIR, assetsMissingPage, serveBrowserAssets } from './static.js';

export interface DashboardOptions extends DashboardFeedOptions {
  /** Where the built bundles are (default dist/browser). */
  assetsDir?: string;
  /** Path of the dashboard page (default "/"). */
  path?: string;
}

const PAGE = fileURLToPath(new URL('./app/index.html', import.meta.url));

/**
 * The live dashboard as a coordinator extension: the page at `path`, its bundle under
 * /assets, and round/client events pushed over the /dashboard Socket.IO namespace.
 * Usage: createCoordinator({ ..., extensions: [dashboardExtension()] }).
 */
export function dashboardExtension(options: DashboardOptions = {}): CoordinatorExtension & { feed(): DashboardFeed | undefined } {
  const assetsDir = options.assetsDir ?? BROWSER_ASSETS_DIR;
  let feed: DashboardFeed | undefined;
  return {
    name: 'dashboard',
    feed: () => feed,
    attach({ routes, io, coordinator, operator }) {
      // With an operator token, only operators may watch (and they see client ids); without one, viewers see pseudonyms.
      feed = new DashboardFeed(coordinator, {
        clientName: operator.configured ? (id) => id : (id) => operator.pseudonym(id),
        guard: operator.requireSocket,
        ...options,
      });
      feed.attach(io);
      serveBrowserAssets(routes, assetsDir);
      serveFavicon(routes);
      // The page needs the credential too: a browser prompts (Basic) and keeps a session cookie its socket then carries.
      routes.get(options.path ?? '/', operator.requireHttp, (_req, res) => {
        const missing = assetsMissingPage('dashboard.js', assetsDir);
        if (missing) res.status(503).type('html').send(missing);
        else res.sendFile(PAGE);
      });
    },
    detach() {
      feed?.detach();
    },
  };
}
