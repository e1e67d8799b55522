// `npm run check`: type-checks every file once, in the program of the environment it runs in (package
// files) or in the root program (tests, benchmarks, scripts), then lints, in one process. Separate tsc
// runs and typescript-eslint would parse and bind the same files five times; here the programs share
// parsed files and ESLint lints against the root program already built.
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENVIRONMENTS = ['tsconfig.universal.json', 'tsconfig.browser.json', 'tsconfig.node.json'];

/** Parsed files by name and parse settings, shared between programs (as tsserver's document registry does). */
const parsed = new Map<string, ts.SourceFile>();

function sharingHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options, true);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, settings, onError, shouldCreate) => {
    const key = `${fileName}|${typeof settings === 'object' ? `${settings.languageVersion}:${settings.impliedNodeFormat}` : settings}`;
    let file = parsed.get(key);
    if (!file) {
      file = read(fileName, settings, onError, shouldCreate);
      if (file) parsed.set(key, file);
    }
    return file;
  };
  return host;
}

function loadProgram(configFile: string): { program: ts.Program; own: string[]; configErrors: readonly ts.Diagnostic[] } {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${ROOT}${configFile}`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host: sharingHost(config.options) });
  return { program, own: config.fileNames, configErrors: config.errors };
}

/** Diagnostics of a program's files that `checks` selects (each file is checked by exactly one program). */
function diagnostics(p: ReturnType<typeof loadProgram>, checks: (fileName: string) => boolean): ts.Diagnostic[] {
  const files = p.program.getSourceFiles().filter((f) => !f.isDeclarationFile && checks(f.fileName));
  const perFile = (get: (f: ts.SourceFile) => readonly ts.Diagnostic[]) => files.flatMap((f) => get(f));
  return [
    ...p.configErrors,
    ...p.program.getOptionsDiagnostics(),
    ...p.program.getGlobalDiagnostics(),
    ...perFile((f) => p.program.getSyntacticDiagnostics(f)),
    ...perFile((f) => p.program.getSemanticDiagnostics(f)),
  ];
}

const formatHost: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
let failed = false;
const report = (what: string, found: ts.Diagnostic[], ms: number) => {
  console.log(`${found.length ? '✖' : '✔'} tsc ${what}: ${found.length} error(s) (${(ms / 1000).toFixed(1)} s)`);
  if (found.length) {
    failed = true;
    console.log(ts.formatDiagnosticsWithColorAndContext(found, formatHost));
  }
};

// Each environment checks its own package files under its own lib/types; the root program (DOM, Node
// and mocha types) checks what no environment owns: tests, benchmarks, scripts.
const owned = new Set<string>();
for (const env of ENVIRONMENTS) {
  const started = performance.now();
  const program = loadProgram(env);
  const own = new Set(program.own);
  for (const f of own) owned.add(f);
  report(
    `${env} (its own files)`,
    diagnostics(program, (f) => own.has(f)),
    performance.now() - started,
  );
}
const rootStarted = performance.now();
const root = loadProgram('tsconfig.json');
const rootFiles = (f: string) => !owned.has(f) && !f.includes('/node_modules/');
report('tsconfig.json (tests, benchmarks, scripts)', diagnostics(root, rootFiles), performance.now() - rootStarted);

if (!process.argv.includes('--no-lint')) {
  const lintStarted = performance.now();
  // eslint.config.js lints against this program instead of building its own (see there).
  (globalThis as { fedrecLintPrograms?: ts.Program[] }).fedrecLintPrograms = [root.program];
  const eslint = new ESLint({ cwd: ROOT });
  const results = await eslint.lintFiles(['.']);
  const errors = results.reduce((n, r) => n + r.errorCount, 0);
  const warnings = results.reduce((n, r) => n + r.warningCount, 0);
  console.log(`${errors ? '✖' : '✔'} eslint: ${errors} error(s), ${warnings} warning(s) (${((performance.now() - lintStarted) / 1000).toFixed(1)} s)`);
  const text = await (await eslint.loadFormatter('stylish')).format(results);
  if (text) console.log(text);
  if (errors) failed = true;
}
process.exitCode = failed ? 1 : 0;
