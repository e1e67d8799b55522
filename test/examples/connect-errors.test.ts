import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '@fedrec/protocol';
import { startFakeCoordinator, type FakeCoordinator } from '../client-sdk/helpers/fake-coordinator.js';
import { tempDir } from '../coordinator/helpers.js';
import { runTsx } from './run-process.js';

/**
 * Each way a device can fail to join, as a person meets it: the node-app example against a real
 * server over real sockets, its stderr naming the cause (code) and what to do, with no stack trace.
 */
describe('examples: every refusal names its cause and what to do (node-app over real sockets)', function () {
  this.timeout(240_000);
  const servers: Array<() => Promise<void>> = [];
  let dir: string;
  let remove: () => Promise<void>;
  let fingerprint: string;
  /** One node-app process per case, all started at once (each spends most of its time loading the SDK). */
  const results = new Map<string, Promise<{ code: number | null; stderr: string }>>();

  function nodeApp(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const run = runTsx('examples/node-app.ts', ['--device-dir', join(dir, `device-${results.size}`), ...args]);
    return run.exited.then((code) => ({ code, stderr: run.stderr() }));
  }

  async function fake(options: Parameters<typeof startFakeCoordinator>[0] = {}): Promise<FakeCoordinator> {
    const f = await startFakeCoordinator(options);
    servers.push(() => f.close());
    return f;
  }

  before(async () => {
    ({ dir, remove } = await tempDir());
    const probe = await startFakeCoordinator();
    await probe.close(); // nothing listens on this port now
    results.set('refused', nodeApp(['--url', probe.url]));
    // .invalid never resolves (RFC 2606); without any DNS the lookup fails the same way. https: the
    // SDK refuses plain http to a host off this machine before any lookup (INSECURE_TRANSPORT, below).
    results.set('dns', nodeApp(['--url', 'https://no-such-host.invalid:8080']));
    results.set('plain-http-remote', nodeApp(['--url', 'http://no-such-host.invalid:8080']));
    const plain = await fake();
    results.set('https-to-http', nodeApp(['--url', plain.url.replace('http:', 'https:')]));
    // A self-signed certificate (openssl is part of Debian's base system).
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], {
      stdio: 'ignore',
    });
    const https = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    servers.push(() => new Promise((resolve) => https.close(() => resolve())));
    results.set('self-signed', nodeApp(['--url', `https://127.0.0.1:${(https.address() as AddressInfo).port}`]));
    const other = await fake({ requireVersion: PROTOCOL_VERSION + 1 });
    results.set('version', nodeApp(['--url', other.url]));
    const guarded = await fake({ refuseWith: 'UNAUTHORIZED' });
    results.set('auth', nodeApp(['--url', guarded.url, '--token', 'wrong']));
    const pinned = await fake();
    fingerprint = pinned.fingerprint;
    results.set('fingerprint', nodeApp(['--url', pinned.url, '--fingerprint', 'sha512:00000000000000000000000000000000']));
  });
  after(async () => {
    await Promise.all(results.values());
    for (const close of servers) await close();
    await remove();
  });

  async function assertExplained(which: string, code: string, todo: RegExp): Promise<string> {
    const r = await results.get(which)!;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^node-app: ${code}: `, 'm'));
    assert.match(r.stderr, /what to do: /);
    assert.match(r.stderr, todo);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace without --verbose');
    return r.stderr;
  }

  it('connection refused: says so at once (not a timeout) and says to start the coordinator', async () => {
    await assertExplained('refused', 'CONNECTION_REFUSED', /start the coordinator \(npm start\) or fix --url/);
  });

  it('unknown host: names DNS and the --url to check', async () => {
    await assertExplained('dns', 'HOST_NOT_FOUND', /does not resolve: check --url/);
  });

  it('plain http to another machine: refused before anything is sent, says to use https', async () => {
    await assertExplained('plain-http-remote', 'INSECURE_TRANSPORT', /use https:\/\//);
  });

  it('TLS: https against a plain coordinator, and a certificate nobody vouches for', async () => {
    await assertExplained('https-to-http', 'TLS_ERROR', /TLS handshake failed/);
    const stderr = await assertExplained('self-signed', 'TLS_ERROR', /trust its certificate \(NODE_EXTRA_CA_CERTS/);
    assert.match(stderr, /SELF_SIGNED/);
  });

  it('protocol version: names the mismatch and says to run one release on both sides', async () => {
    await assertExplained('version', 'PROTOCOL_VERSION_MISMATCH', /same fedrec release on both sides/);
  });

  it('auth: a refused token says to pass --token', async () => {
    await assertExplained('auth', 'UNAUTHORIZED', /pass --token/);
  });

  it('fingerprint: a coordinator with another key than the pinned one is refused, with where to find the real one', async () => {
    const stderr = await assertExplained('fingerprint', 'FINGERPRINT_MISMATCH', /pin the new fingerprint \(GET \/api\/status\)/);
    assert.match(stderr, new RegExp(fingerprint));
  });
});
