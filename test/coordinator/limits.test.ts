import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createCoordinator } from '@fedrec/coordinator';
import type { Logger } from '@fedrec/coordinator';
import { AddressLimits } from '@fedrec/coordinator/address-limits.js';
import { LogRateLimiter } from '@fedrec/coordinator/log-limiter.js';
import { generateSignKeyPair } from '@fedrec/protocol';
import type { ErrorInfo } from '@fedrec/protocol';
import { connectErrorData, connectFakeClient, connectProving, constantUpdate, startCoordinator, stopAll, tempDir, testOptions, until } from './helpers.js';
import type { ClientIo } from './helpers.js';

/** A logger that keeps every line (level, fields, message), children included. */
function recordingLogger(lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }>, bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (a: object | string, b?: string): void => {
      if (typeof a === 'string') lines.push({ level, fields: { ...bindings }, msg: a });
      else lines.push({ level, fields: { ...bindings, ...(a as Record<string, unknown>) }, msg: b ?? '' });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => recordingLogger(lines, { ...bindings, ...more }) };
}

/** Opens a proven connection, or says the code it was refused with. */
function open(url: string, clientId: string): Promise<{ socket: ClientIo } | { refused: string | undefined }> {
  const socket = connectProving(url, clientId, generateSignKeyPair());
  return new Promise((resolve) => {
    socket.once('session:welcome', () => resolve({ socket }));
    socket.once('connect_error', (err) => {
      socket.close();
      resolve({ refused: connectErrorData(err)?.code });
    });
    socket.once('proof-refused' as never, (e: ErrorInfo) => {
      socket.close();
      resolve({ refused: e.code });
    });
  });
}

describe('coordinator: abuse limits', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  it('refuses an update with more metric names than maxMetricKeys (TOO_LARGE) and leaves the model alone', async () => {
    const { coordinator, url } = await startCoordinator({ maxMetricKeys: 4, minResults: 1, rounds: 'continuous' });
    const many = Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`m${i}`, i]));
    const client = await connectFakeClient(url, { clientId: 'chatty', fit: () => ({ kind: 'update', payload: { ...constantUpdate(1, 1), metrics: many } }) });
    try {
      await until(() => client.results.length >= 2, 10_000, 'two verdicts');
      assert.ok(client.results.every((r) => !r.accepted && r.error?.code === 'TOO_LARGE'));
      assert.equal(coordinator.modelVersion, 0);
      assert.ok(coordinator.currentWeights().body.every((v) => v === 0));
    } finally {
      client.close();
    }
    const fine = await connectFakeClient(url, {
      clientId: 'terse',
      fit: () => ({ kind: 'update', payload: { ...constantUpdate(1, 1), metrics: { a: 1, b: 2, c: 3, d: 4 } } }),
    });
    try {
      await coordinator.waitForVersion(1, 10_000);
    } finally {
      fine.close();
    }
  });

  it('caps open connections per address (RATE_LIMITED) and frees a slot when one closes', async () => {
    const { url } = await startCoordinator({ minClients: 99, maxConnectionsPerAddress: 3 });
    const held: ClientIo[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await open(url, `c${i}`);
      assert.ok('socket' in r, `connection ${i} admitted`);
      held.push(r.socket);
    }
    assert.deepEqual(await open(url, 'c3'), { refused: 'RATE_LIMITED' });
    const gone = new Promise((r) => held[0]!.once('disconnect', r));
    held.shift()!.close();
    await gone;
    let again: Awaited<ReturnType<typeof open>> = { refused: 'pending' };
    // The server notices the close a moment after the client does: retry briefly.
    for (let i = 0; i < 50 && !('socket' in again); i++) {
      again = await open(url, 'c4');
      if (!('socket' in again)) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok('socket' in again, 'admitted once a slot is free');
    held.push(again.socket);
    held.forEach((s) => s.close());
  });

  it('caps handshakes per address per second (RATE_LIMITED)', async () => {
    // One a second, so even a loaded machine cannot spread 12 concurrent attempts over enough seconds to admit them all.
    const rate = 1;
    const { url } = await startCoordinator({ minClients: 99, maxHandshakesPerSecond: rate });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => open(url, `h${i}`)));
    const seconds = (Date.now() - started) / 1000;
    const admitted = results.filter((r) => 'socket' in r);
    assert.ok(
      results.some((r) => 'refused' in r && r.refused === 'RATE_LIMITED'),
      'some were refused',
    );
    assert.ok(admitted.length <= rate * (Math.ceil(seconds) + 1), `${admitted.length} admitted in ${seconds} s`);
    for (const r of admitted) r.socket.close();
  });

  it('counts handshakes in one-second windows and connections per address (unit)', () => {
    let now = 0;
    const limits = new AddressLimits({ maxConnectionsPerAddress: 2, maxHandshakesPerSecond: 3 }, () => now);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limits.admit('a') === undefined),
      [true, true, true, false],
    );
    assert.equal(limits.admit('b'), undefined, 'addresses are counted apart');
    now = 1000;
    limits.opened('a');
    limits.opened('a');
    assert.match(limits.admit('a') ?? '', /already holds 2 connections/);
    limits.closed('a');
    assert.equal(limits.admit('a'), undefined);
  });

  it('rate-limits log lines per key and reports the suppressed count (unit)', () => {
    const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    let now = 0;
    const limiter = new LogRateLimiter(recordingLogger(lines), 3, () => now);
    const log = limiter.forKey('client:x', { clientId: 'x' });
    for (let i = 0; i < 10; i++) log.warn({ i }, 'bad event');
    limiter.forKey('client:y').warn('other client');
    assert.equal(lines.filter((l) => l.msg === 'bad event').length, 3);
    assert.equal(lines.filter((l) => l.msg === 'other client').length, 1);
    now = 60_000;
    log.warn({ i: 11 }, 'bad event');
    const summary = lines.find((l) => /suppressed 7 log lines from client:x/.test(l.msg));
    assert.ok(summary, 'the next minute starts with the summary');
    assert.equal(summary.fields['suppressed'], 7);
    assert.equal(lines.at(-1)!.msg, 'bad event');
  });

  it('a client flooding bad events costs a bounded number of log lines, summarised on stop', async () => {
    const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    const { coordinator, url } = await startCoordinator({ minClients: 99, logLinesPerClientPerMinute: 10, logger: recordingLogger(lines) });
    const client = await connectFakeClient(url, { clientId: 'noisy' });
    const loose = client.socket as unknown as { timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> } };
    try {
      for (let i = 0; i < 300; i++) await loose.timeout(5_000).emitWithAck('no:such-event', i);
    } finally {
      client.close();
    }
    await coordinator.stop();
    const fromNoisy = lines.filter((l) => l.fields['clientId'] === 'noisy' && l.level !== 'debug');
    assert.ok(fromNoisy.length <= 11, `${fromNoisy.length} lines`);
    assert.ok(lines.some((l) => l.fields['suppressed'] !== undefined && Number(l.fields['suppressed']) >= 280));
  });

  it('keeps the checkpoint directory 0700 and its files 0600', async () => {
    const dir = await tempDir();
    try {
      const coordinator = createCoordinator(testOptions({ checkpointDir: dir.dir, rounds: 1 }));
      const { url } = await coordinator.start();
      const client = await connectFakeClient(url, { clientId: 'cp' });
      await coordinator.waitForVersion(1);
      client.close();
      await coordinator.stop();
      assert.equal((await stat(dir.dir)).mode & 0o777, 0o700);
      const files = await readdir(dir.dir);
      assert.ok(files.some((f) => f.startsWith('checkpoint-')));
      for (const f of files) assert.equal((await stat(join(dir.dir, f))).mode & 0o777, 0o600, f);
    } finally {
      await dir.remove();
    }
  });
});
