import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// What the README shows a reader must be what the project runs.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

describe('README and ARCHITECTURE', () => {
  it('quotes examples/node-app.ts as it stands (the region marked for it)', () => {
    const app = read('examples/node-app.ts');
    const start = app.indexOf('// #region readme');
    const end = app.indexOf('// #endregion');
    assert.ok(start >= 0 && end > start, 'examples/node-app.ts marks the region the README quotes');
    const region = app.slice(app.indexOf('\n', start) + 1, end).trimEnd();
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Embedding the client SDK'));
    const snippet = /```ts\n([\s\S]*?)\n```/.exec(section)?.[1];
    assert.equal(snippet, region);
  });

  for (const doc of ['README.md', 'ARCHITECTURE.md']) {
    it(`${doc} names only npm scripts that exist, and every file it names under a package folder exists`, () => {
      const readme = read(doc);
      const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
      const named = [...readme.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1]!);
      if (doc === 'README.md') assert.ok(named.length > 3);
      assert.deepEqual(
        named.filter((s) => !scripts.includes(s)),
        [],
      );
      const packageDirs = /^(protocol|secagg|models|recsys|client-sdk|coordinator|dashboard|apps|examples|test|bench|scripts)\//;
      const paths = [...readme.matchAll(/`([\w./-]+\.(?:ts|md|json))`/g)].map((m) => m[1]!).filter((p) => packageDirs.test(p));
      assert.ok(paths.length > 3);
      const missing = paths.filter((p) => {
        try {
          read(p);
          return false;
        } catch {
          return true;
        }
      });
      assert.deepEqual(missing, []);
    });
  }
});
