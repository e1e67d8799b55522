import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { Browser } from 'playwright-core';
import { buildBrowser } from '../../scripts/build-browser.js';
import { assertVectorOutcome } from '../protocol/envelope-outcome.js';
import type { VectorOutcome } from '../protocol/envelope-vectors.js';
import { launchChromium, newDevicePage } from './helpers.js';

const ENTRY = 'test/protocol/envelope-vectors.ts';

describe('AES-256-GCM envelopes in Chromium (the protocol code, bundled)', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let server: Server | undefined;
  let dir: string | undefined;
  let origin = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedrec-aead-'));
    await buildBrowser({ outDir: dir, entries: [ENTRY] });
    const app = express();
    app.use('/assets', express.static(dir));
    app.get('/', (_req, res) => void res.type('html').send('<!doctype html><title>aead</title>'));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('computes the same vector as Node, and refuses the same tampering with ENVELOPE_REJECTED', async () => {
    const page = await newDevicePage(browser!);
    await page.goto(origin); // localhost is a secure context: crypto.subtle is there
    const outcome = await page.evaluate(async (src: string) => {
      const m = (await import(src)) as { runEnvelopeVector(): Promise<VectorOutcome> };
      return m.runEnvelopeVector();
    }, `/assets/${ENTRY}.js`);
    assertVectorOutcome(outcome, 'webcrypto'); // a page has no node:crypto
  });
});
