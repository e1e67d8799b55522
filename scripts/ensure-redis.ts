// `npm test`'s pretest step, beside ensure-chromium.ts: the cluster suites run a real redis-server. Finds
// it, or installs Debian's package when this is a root shell with apt-get (a fresh CI machine), or says
// exactly what to run and stops (the suites would otherwise fail with the same hint).
import { spawnSync } from 'node:child_process';
import { REDIS_INSTALL_HINT, redisServerAvailable } from './redis-server.js';

function run(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

function main(): number {
  if (redisServerAvailable()) return 0;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    console.log("pretest: redis-server is missing; installing Debian's redis-server package for the cluster tests (apt-get install -y redis-server)");
    if (run('apt-get', ['update', '-qq']) && run('apt-get', ['install', '-y', '-qq', 'redis-server']) && redisServerAvailable()) return 0;
    console.error('pretest: apt-get could not install redis-server; install it by hand.');
    return 1;
  }
  console.error(`pretest: the cluster tests need a real Redis. ${REDIS_INSTALL_HINT}`);
  return 1;
}

process.exit(main());
