// Starts a real redis-server (Debian's package) on a free port with a temp dir, for tests, benchmarks and
// `npm run cluster:local`; never a mock. Redis's `--port 0` turns TCP off, so the port is picked here.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_INSTALL_HINT =
  'redis-server is not installed: install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu; CI does it in .ci/run), or put a redis-server on PATH';

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  process: ChildProcess;
  /** Stops it (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>;
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `persistent`: append-only file on (fsync every second), as production would run it. `ownGroup`: its own
 * process group, so a terminal's Ctrl-C reaches the nodes first and Redis is stopped after them.
 */
export async function startRedisServer(options: { persistent?: boolean; ownGroup?: boolean } = {}): Promise<RedisServer> {
  if (!redisServerAvailable()) throw new Error(REDIS_INSTALL_HINT);
  const dir = await mkdtemp(join(tmpdir(), 'fedrec-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', options.persistent ? 'yes' : 'no'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownGroup === true });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    });
  });
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
