import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '../../scripts/redis-server.js';
import type { RedisServer } from '../../scripts/redis-server.js';
import { tempDir } from '../coordinator/helpers.js';
import { TEST_NODE_ARGS } from '../../scripts/cluster-node-process.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Starts the CLI with the module probe, waits until it is ready, stops it, and returns the Redis modules it had loaded. */
async function redisModulesOf(args: string[]): Promise<string[]> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/cluster/fixtures/report-redis-modules.ts',
      'apps/coordinator-cli/cli.ts',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      ...TEST_NODE_ARGS,
      ...args,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('fedrec coordinator ready')) resolve();
    });
    void exited.then(() => reject(new Error(`CLI exited early: ${stderr}`)));
  });
  child.kill('SIGTERM');
  await exited;
  const report = /REDIS_MODULES (.*)/.exec(stderr);
  assert.ok(report, `the probe reported: ${stderr}`);
  return JSON.parse(report[1]!) as string[];
}

describe('cluster: without --redis nothing Redis-related is loaded', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());

  it('a plain start has neither ioredis nor the Socket.IO Redis adapter in its module cache; --redis has both', async () => {
    assert.deepEqual(await redisModulesOf([]), []);
    const shared = await tempDir();
    try {
      const loaded = await redisModulesOf(['--redis', redis.url, '--secure-aggregation', 'off', '--checkpoint-dir', shared.dir]);
      // The probe can see them: the same check fails when they are loaded.
      assert.ok(
        loaded.some((m) => /ioredis/.test(m)),
        `ioredis loaded with --redis: ${loaded.length} modules`,
      );
      assert.ok(
        loaded.some((m) => /redis-adapter/.test(m)),
        'the adapter loaded with --redis',
      );
    } finally {
      await shared.remove();
    }
  });
});
