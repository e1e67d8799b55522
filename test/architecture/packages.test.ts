import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The package graph, checked from the files themselves: what each package imports must be what its
// package.json declares, and the declared graph must be the layering the README draws.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };

interface Workspace {
  dir: string;
  name: string;
  declared: Set<string>;
}

const workspaces: Workspace[] = rootManifest.workspaces.map((dir) => {
  const m = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {
    name: string;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  return { dir, name: m.name, declared: new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.optionalDependencies ?? {})]) };
});
const byName = new Map(workspaces.map((w) => [w.name, w]));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.parentPath.includes('node_modules'))
    .map((e) => join(e.parentPath, e.name));
}

/** The package names a file imports (static, dynamic and type-only), without relative imports and Node built-ins. */
function importedPackages(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  // `from` never takes a parenthesis (only `import(...)` does): `Buffer.from('30...', 'hex')` is no import.
  for (const m of src.matchAll(/\bfrom\s*['"]([^'"./][^'"]*)['"]|\bimport\s*\(?\s*['"]([^'"./][^'"]*)['"]/g)) {
    const spec = (m[1] ?? m[2])!;
    if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) continue;
    const parts = spec.split('/');
    out.push(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return out;
}

function fedrecDeps(w: Workspace): string[] {
  return [...w.declared].filter((d) => byName.has(d));
}

describe('package graph (npm workspaces)', () => {
  it('every package imports only what its own package.json declares', () => {
    const undeclared: string[] = [];
    for (const w of workspaces) {
      for (const file of sourceFiles(w.dir)) {
        for (const pkg of importedPackages(file)) {
          if (pkg !== w.name && !w.declared.has(pkg)) undeclared.push(`${file.slice(ROOT.length)} imports ${pkg}, not declared by ${w.name}`);
        }
      }
    }
    assert.deepEqual(undeclared, []);
  });

  it('the declared @fedrec graph has no cycle', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      if (state.get(name) === 'done') return;
      assert.notEqual(state.get(name), 'visiting', `package cycle: ${[...path, name].join(' -> ')}`);
      state.set(name, 'visiting');
      for (const dep of fedrecDeps(byName.get(name)!)) visit(dep, [...path, name]);
      state.set(name, 'done');
    };
    for (const w of workspaces) visit(w.name, []);
  });

  it('draws client-sdk -> protocol <- coordinator: neither side reaches the other, protocol reaches nothing', () => {
    const closure = (name: string): Set<string> => {
      const seen = new Set<string>();
      const walk = (n: string) => {
        for (const d of fedrecDeps(byName.get(n)!)) {
          if (seen.has(d)) continue;
          seen.add(d);
          walk(d);
        }
      };
      walk(name);
      return seen;
    };
    assert.deepEqual([...closure('@fedrec/protocol')], []);
    const sdk = closure('@fedrec/client-sdk');
    assert.ok(sdk.has('@fedrec/protocol'));
    for (const server of ['@fedrec/coordinator', '@fedrec/dashboard', '@fedrec/coordinator-cli', '@fedrec/simulate'])
      assert.ok(!sdk.has(server), `client-sdk reaches ${server}`);
    const coordinator = closure('@fedrec/coordinator');
    assert.ok(coordinator.has('@fedrec/protocol'));
    for (const device of ['@fedrec/client-sdk', '@fedrec/models', '@fedrec/recsys']) assert.ok(!coordinator.has(device), `coordinator reaches ${device}`);
  });

  it('npm ls of the client SDK lists no server-only dependency', async function () {
    this.timeout(60_000);
    const { stdout } = await promisify(execFile)('npm', ['ls', '--workspace', '@fedrec/client-sdk', '--all', '--parseable', '--long'], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const installed = new Set(
      stdout
        .split('\n')
        .map((line) => line.split(':')[1]?.replace(/@[^@]*$/, ''))
        .filter((n): n is string => !!n),
    );
    assert.ok(installed.has('socket.io-client') && installed.has('tweetnacl'), 'npm ls lists the SDK’s own dependencies');
    const serverOnly = ['express', 'socket.io', 'prom-client', 'pino', 'commander', 'cli-progress', 'vega', 'vega-lite', 'chart.js'];
    assert.deepEqual(
      serverOnly.filter((n) => installed.has(n)),
      [],
    );
  });
});
