import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

/** Runs `npm run simulate` as a user would (tsx apps/simulate/main.ts) and resolves with its exit and output. */
function simulate(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'apps/simulate/main.ts', ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run simulate: bad flags fail at once, naming the flag', function () {
  this.timeout(120_000);

  for (const [args, message] of [
    [['--clients-per-round', 'lots'], /option '--clients-per-round <n\|all>' argument 'lots' is invalid/],
    [['--strategy-options', '{bad'], /option '--strategy-options <json>' argument '\{bad' is invalid\. not JSON/],
    [['--rounds', '-3'], /option '--rounds <n>' argument '-3' is invalid/],
  ] as const) {
    it(`${args.join(' ')}: refused before any data loads, without a stack trace`, async () => {
      const r = await simulate([...args]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stdout, /^data: /m, 'no data was loaded');
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    });
  }
});
