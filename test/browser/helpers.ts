import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import express from 'express';
import { BROWSER_ASSETS_DIR } from '@fedrec/dashboard/static.js';
import { buildBrowser, DEFAULT_OUT_DIR } from '../../scripts/build-browser.js';
import { findChromium } from '../../scripts/chromium.js';

/** Debian's Chromium (found by scripts/chromium.ts; `npm test`'s pretest installs it) with WebGL through SwiftShader; never a downloaded browser. */
export const CHROMIUM_PATH = findChromium() ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export const OUTPUT_DIR = join(process.cwd(), 'test-output');

let built: Promise<unknown> | undefined;

/** Builds the browser bundles once per test run, so a fresh clone's `npm test` works and tests never see stale code. */
export function ensureBundles(): Promise<unknown> {
  built ??= buildBrowser({ outDir: DEFAULT_OUT_DIR });
  return built;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export async function screenshotPath(name: string): Promise<string> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  return join(OUTPUT_DIR, name);
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A page in its own browser context (own IndexedDB: its own device). tsx compiles the test's
 * page.evaluate callbacks with esbuild's keepNames, which calls a `__name` helper: define it.
 */
export async function newDevicePage(browser: Browser, viewport = { width: 1400, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  return context.newPage();
}

/** A loopback server with the built bundles under /assets and a blank page at / (a real origin for IndexedDB). */
export async function serveAssets(): Promise<{ origin: string; close(): Promise<void> }> {
  const app = express();
  app.use('/assets', express.static(BROWSER_ASSETS_DIR));
  app.get('/', (_req, res) => void res.type('html').send('<!doctype html><title>fedrec test</title>'));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** What goes wrong on a page while a test drives it: failed requests (status >= 400) and uncaught page errors. */
export function watchPageProblems(page: Page): { failed: string[]; errors: string[] } {
  const problems = { failed: [] as string[], errors: [] as string[] };
  page.on('response', (r) => {
    if (r.status() >= 400) problems.failed.push(`${r.status()} ${r.url()}`);
  });
  page.on('pageerror', (e) => problems.errors.push(e.message));
  return problems;
}
