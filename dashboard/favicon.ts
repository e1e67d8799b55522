import type { Router } from 'express';

/** The dashboard's icon: a small inline SVG (three nodes feeding a centre), so no page load asks for a missing file. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f2937"/>' +
  '<g stroke="#60a5fa" stroke-width="2"><line x1="16" y1="16" x2="7" y2="8"/><line x1="16" y1="16" x2="25" y2="8"/><line x1="16" y1="16" x2="16" y2="27"/></g>' +
  '<circle cx="16" cy="16" r="5" fill="#34d399"/><circle cx="7" cy="8" r="3" fill="#93c5fd"/><circle cx="25" cy="8" r="3" fill="#93c5fd"/><circle cx="16" cy="27" r="3" fill="#93c5fd"/></svg>';

/** Serves the icon at /favicon.svg and at /favicon.ico (browsers ask for the latter on any page of the origin). */
export function serveFavicon(routes: Router): void {
  const marked = routes as Router & { fedrecFavicon?: boolean };
  if (marked.fedrecFavicon) return;
  marked.fedrecFavicon = true;
  for (const path of ['/favicon.svg', '/favicon.ico']) {
    routes.get(path, (_req, res) => {
      res.type('image/svg+xml').set('Cache-Control', 'public, max-age=86400').send(FAVICON_SVG);
    });
  }
}
