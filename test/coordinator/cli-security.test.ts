import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { resolveCliConfig } from '@fedrec/coordinator-cli/cli-config.js';
import { securityFilesFromCli } from '@fedrec/coordinator-cli/cli-security.js';
import { generateSignKeyPair, toHex } from '@fedrec/protocol';
import { tempDir } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { ca, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('coordinator: CLI security flags', function () {
  this.timeout(40_000);

  it('reads the allowed-keys file and refuses half a TLS pair', async () => {
    const { dir, remove } = await tempDir();
    try {
      const key = toHex(generateSignKeyPair().publicKey);
      const file = join(dir, 'allowed.txt');
      await writeFile(file, `# devices enrolled by hand\n${key}\n\n`);
      const config = resolveCliConfig({ allowedKeysFile: file, operatorToken: 'o'.repeat(16), maxMetricKeys: '8', trustProxy: 'true' });
      assert.deepEqual(await securityFilesFromCli(config), { allowedKeys: [key] });
      assert.equal(config.maxMetricKeys, 8);
      assert.equal(config.trustProxy, true);
      assert.throws(() => resolveCliConfig({ tlsCert: 'cert.pem' }), /tls-key/);
      assert.throws(() => resolveCliConfig({ operatorToken: 'short' }), /16 characters/);
      await writeFile(file, 'not-a-key\n');
      await assert.rejects(securityFilesFromCli(config), /line 1/);
    } finally {
      await remove();
    }
  });

  it('npm start with --tls-cert/--tls-key serves https, and --operator-token (or its env var) guards /metrics', async () => {
    const { dir, remove } = await tempDir();
    const made = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    await writeFile(join(dir, 'cert.pem'), made.cert);
    await writeFile(join(dir, 'key.pem'), made.private);
    const args = ['--import', 'tsx', 'apps/coordinator-cli/cli.ts', '--model', 'logistic', '--port', '0', '--host', '127.0.0.1'];
    const child = spawn(process.execPath, [...args, '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FEDREC_OPERATOR_TOKEN: 'operator-token-from-env' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          if (entry['msg'] === 'fedrec coordinator ready') resolve(String(entry['url']));
        });
        void exited.then((code) => reject(new Error(`CLI exited early (${code}): ${stderr}`)));
      });
      assert.match(url, /^https:/);
      assert.equal(await httpsGet(`${url}/healthz`, made.cert), 200);
      assert.equal(await httpsGet(`${url}/metrics`, made.cert), 401);
      assert.equal(await httpsGet(`${url}/metrics`, made.cert, { authorization: 'Bearer operator-token-from-env' }), 200);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await remove();
    }
  });
});
