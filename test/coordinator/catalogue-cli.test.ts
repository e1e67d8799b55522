import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { readCatalogueFile } from '@fedrec/coordinator-cli/catalogue-file.js';
import type { CatalogueSnapshot } from '@fedrec/protocol';
import { tempDir } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function run(
  args: string[],
  env: Record<string, string> = {},
): { child: ReturnType<typeof spawn>; exited: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exited };
}

describe('coordinator: catalogue files and the catalogue CLI', function () {
  this.timeout(60_000);

  it('reads JSON and CSV catalogues (quoted titles, | separated tags) and refuses duplicates and bad ids', async () => {
    const { dir, remove } = await tempDir();
    try {
      const csv = join(dir, 'c.csv');
      await writeFile(csv, 'id,tags,title\nsku-1,shoes|red,"Runner, red"\nsku-2,,Plain\n');
      assert.deepEqual(await readCatalogueFile(csv), [
        { id: 'sku-1', tags: ['shoes', 'red'], title: 'Runner, red' },
        { id: 'sku-2', title: 'Plain' },
      ]);
      const json = join(dir, 'c.json');
      await writeFile(json, JSON.stringify({ items: [{ id: 'a' }, { id: 'b', tags: ['x'] }] }));
      assert.deepEqual(await readCatalogueFile(json), [{ id: 'a' }, { id: 'b', tags: ['x'] }]);
      await writeFile(json, JSON.stringify([{ id: 'a' }, { id: 'a' }]));
      await assert.rejects(readCatalogueFile(json), /duplicate item id a/);
      await writeFile(csv, 'id\nhas space\n');
      await assert.rejects(readCatalogueFile(csv), /item id/);
    } finally {
      await remove();
    }
  });

  it('npm start --catalogue serves the file as the catalogue, and `npm run catalogue -- add` grows it', async () => {
    const { dir, remove } = await tempDir();
    const csv = join(dir, 'items.csv');
    await writeFile(csv, `id,tags,title\n${Array.from({ length: 20 }, (_, i) => `film-${i},${i % 2 ? 'drama' : 'comedy'},Film ${i}`).join('\n')}\n`);
    const more = join(dir, 'more.json');
    await writeFile(more, JSON.stringify([{ id: 'film-new', tags: ['drama'] }]));
    const coordinator = run([
      'apps/coordinator-cli/cli.ts',
      '--model',
      'mf',
      '--model-options',
      '{"factors":4}',
      '--catalogue',
      csv,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--operator-token',
      'operator-token-0123456789',
    ]);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: coordinator.child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          if (entry['msg'] === 'fedrec coordinator ready') resolve(String(entry['url']));
        });
        void coordinator.exited.then((r) => reject(new Error(`CLI exited early (${r.code}): ${r.stderr}`)));
      });
      const snapshot = (await (await fetch(`${url}/api/catalogue`)).json()) as CatalogueSnapshot;
      assert.equal(snapshot.numItems, 20);
      assert.deepEqual(snapshot.items[3], { id: 'film-3', tags: ['drama'], title: 'Film 3', row: 3, addedIn: 0 });

      const refused = await run(['apps/coordinator-cli/catalogue-cli.ts', 'add', '--url', url, '--token', 'wrong', more]).exited;
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /401 UNAUTHORIZED/);
      const added = await run(['apps/coordinator-cli/catalogue-cli.ts', 'add', '--url', url, more], { FEDREC_OPERATOR_TOKEN: 'operator-token-0123456789' })
        .exited;
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /added 1 items: catalogue v1, model v1, 21 items/);
      const status = (await (await fetch(`${url}/api/status`)).json()) as { modelSpec: { options: { numItems: number } } };
      assert.equal(status.modelSpec.options.numItems, 21);
    } finally {
      coordinator.child.kill('SIGTERM');
      await coordinator.exited;
      await remove();
    }
  });
});
