// `npm test`'s pretest step: the browser suites need Chromium. Finds it, or installs Debian's package when
// this is a root shell with apt-get (a fresh CI machine), or says exactly what to run and stops.
import { spawnSync } from 'node:child_process';
import { findChromium } from './chromium.js';

function run(cmd: string, args: string[]): boolean {
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

function main(): number {
  const found = findChromium();
  if (found) return 0;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.env['FEDREC_CHROMIUM']) {
    console.error(`pretest: FEDREC_CHROMIUM=${process.env['FEDREC_CHROMIUM']} is not an executable; point it at a Chromium or unset it.`);
    return 1;
  }
  if (isRoot && hasApt) {
    console.log("pretest: Chromium is missing; installing Debian's chromium package for the browser tests (apt-get install -y chromium)");
    if (run('apt-get', ['update', '-qq']) && run('apt-get', ['install', '-y', '-qq', 'chromium']) && findChromium()) return 0;
    console.error('pretest: apt-get could not install chromium; install it by hand, or set FEDREC_CHROMIUM to a Chromium binary.');
    return 1;
  }
  console.error(
    'pretest: the browser tests need Chromium and none was found.\n' +
      '  Debian/Ubuntu: sudo apt-get install -y chromium   (then run npm test again)\n' +
      '  elsewhere: set FEDREC_CHROMIUM=/path/to/chromium',
  );
  return 1;
}

process.exit(main());
