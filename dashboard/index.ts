// The coordinator's live dashboard (Node side); the browser app is in app/.
export { dashboardExtension, type DashboardOptions } from './extension.js';
export { DashboardFeed, type DashboardFeedOptions } from './feed.js';
export { WireMeter, payloadBytes } from './wire-meter.js';
export { BROWSER_ASSETS_DIR, ASSETS_PREFIX, serveBrowserAssets } from './static.js';
export * from './types.js';
