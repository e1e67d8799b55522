// Builds secagg/native/aes-ctr-into.c into secagg/native/build/aes-ctr-into.node at install (package.json postinstall),
// with the C compiler and the headers of the Node that runs this script (its include/node: node_api.h and the OpenSSL
// Node links; the addon uses Node's own OpenSSL symbols, no system libcrypto). Why not node-gyp: it downloads Node's
// headers, and machines here reach only the npm registry. It never fails an install: without a compiler or headers it
// says why in one line and masks come from node:crypto (secagg/native-keystream.ts). Plain JavaScript: it runs before
// any dev dependency (tsx) is known to be there. FEDREC_NATIVE_AES=0 skips it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'secagg', 'native', 'aes-ctr-into.c');
const outDir = join(root, 'secagg', 'native', 'build');
const target = join(outDir, 'aes-ctr-into.node');
const include = join(dirname(process.execPath), '..', 'include', 'node');
const say = (line) => console.log(`fedrec: ${line}`);

if (process.env.FEDREC_NATIVE_AES === '0') {
  say('native AES-CTR not built (FEDREC_NATIVE_AES=0); SecAgg masks use node:crypto');
} else if (process.platform === 'win32') {
  say('native AES-CTR not built on Windows; SecAgg masks use node:crypto');
} else if (!existsSync(join(include, 'node_api.h')) || !existsSync(join(include, 'openssl', 'evp.h'))) {
  say(`native AES-CTR not built: no Node headers at ${include}; SecAgg masks use node:crypto`);
} else {
  const cc = process.env.CC || 'cc';
  mkdirSync(outDir, { recursive: true });
  const partial = `${target}.${process.pid}.tmp`;
  const flags = ['-O2', '-std=c11', '-Wall', '-fPIC', '-shared', `-I${include}`, source, '-o', partial];
  // macOS resolves Node's symbols at load time only when told to.
  if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
  try {
    execFileSync(cc, flags, { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(partial, target); // whole or not at all: a loader never sees half a file
    say(`native AES-CTR built (${target.slice(root.length + 1)})`);
  } catch (err) {
    const why = err && typeof err === 'object' && 'stderr' in err && err.stderr ? String(err.stderr).split('\n')[0] : String(err);
    say(`native AES-CTR not built (${cc}: ${why}); SecAgg masks use node:crypto`);
  }
}
