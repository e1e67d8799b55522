import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Router } from 'express';

/** Where scripts/build-browser.ts writes the bundles (and the wasm files). */
export const BROWSER_ASSETS_DIR = fileURLToPath(new URL('../dist/browser/', import.meta.url));

/** URL prefix the bundles are served under. */
export const ASSETS_PREFIX = '/assets';

/** Serves the built bundles and wasm files once per router (several extensions may ask). */
export function serveBrowserAssets(routes: Router, dir: string = BROWSER_ASSETS_DIR): void {
  const marked = routes as Router & { fedrecAssets?: boolean };
  if (marked.fedrecAssets) return;
  marked.fedrecAssets = true;
  routes.use(ASSETS_PREFIX, express.static(dir, { fallthrough: true, index: false, maxAge: 0 }));
}

/** A page to send when a bundle is missing, naming the command that makes it. */
export function assetsMissingPage(what: string, dir: string): string | undefined {
  if (existsSync(`${dir}/${what}`)) return undefined;
  return `<!doctype html><title>fedrec</title><p>The browser bundle <code>${what}</code> is not built in <code>${dir}</code>. Run <code>npm run build:browser</code>.</p>`;
}
