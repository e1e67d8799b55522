// `npm test`'s pretest step, beside ensure-chromium.ts and ensure-redis.ts: the suites test the native AES-CTR
// keystream that `npm ci` builds (scripts/build-native-aes.mjs) where a C compiler is present. When it is not built,
// installs Debian's gcc in a root shell with apt-get (a fresh CI machine) and builds it, or says exactly what to run
// and stops (secagg/native-keystream.test.ts would otherwise fail with the same hint). The service itself runs without
// it (masks then come from node:crypto); the tests check what a default install ships.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const ADDON = new URL('../secagg/native/build/aes-ctr-into.node', import.meta.url);
const BUILD = new URL('./build-native-aes.mjs', import.meta.url);
const HINT = 'Install a C compiler (sudo apt-get install -y gcc) and run `node scripts/build-native-aes.mjs`.';

function run(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

const build = () => run(process.execPath, [BUILD.pathname]) && existsSync(ADDON);

function main(): number {
  if (existsSync(ADDON) || build()) return 0;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    console.log("pretest: the native AES-CTR keystream is not built; installing Debian's gcc (apt-get install -y gcc libc6-dev)");
    if (run('apt-get', ['update', '-qq']) && run('apt-get', ['install', '-y', '-qq', 'gcc', 'libc6-dev']) && build()) return 0;
    console.error(`pretest: the native AES-CTR keystream could not be built. ${HINT}`);
    return 1;
  }
  console.error(`pretest: the tests check the native AES-CTR keystream, which is not built. ${HINT}`);
  return 1;
}

process.exit(main());
