import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../coordinator/helpers.js';
import { REPO_ROOT, runTsx, type Running } from '../examples/run-process.js';

/**
 * The README's "Try it" commands, run as written against a default `npm start` (short runs: a free
 * port, a few rounds), as real processes over real sockets. Each `npm start` / `npm run X` is run as
 * the package.json script defines it (tsx FILE), after its build step: the browser bundles are only
 * the dashboard's page, and several test workers must not rebuild them at once.
 */
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The commands of the Quick start's sh blocks, comments dropped. */
function quickStartCommands(): string[] {
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean),
  );
}

/** `npm start -- a b` / `npm run name -- a b` → the script's tsx file and the arguments. */
function resolve(command: string): { file: string; args: string[] } {
  const m = /^npm (?:start|run ([\w:-]+))(?: -- (.*))?$/.exec(command);
  assert.ok(m, `not an npm script command: ${command}`);
  const script = scripts[m[1] ?? 'start'];
  assert.ok(script, `README names a script package.json lacks: ${command}`);
  const tsx = /(?:^|&& )tsx (\S+)$/.exec(script);
  assert.ok(tsx, `script of "${command}" ends in tsx FILE: ${script}`);
  return { file: tsx[1]!, args: m[2] ? m[2].split(/\s+/) : [] };
}

describe('README quick start, run as written (npm start, the node app, bring your own data)', function () {
  this.timeout(300_000);
  const running: Running[] = [];
  let dir: string;
  let remove: () => Promise<void>;
  const commands = quickStartCommands();

  before(async () => {
    ({ dir, remove } = await tempDir());
  });
  after(async () => {
    for (const r of running) await r.stop();
    await remove();
  });

  it('lists the two set-up commands and the examples', () => {
    for (const expected of [
      'npm ci',
      'npm test',
      'npm start',
      'npm run example:node-app',
      'npm run quickstart -- --make-sample events.csv',
      'npm run quickstart -- --csv events.csv',
    ]) {
      assert.ok(commands.includes(expected), `Quick start shows "${expected}"`);
    }
    for (const c of commands.filter((c) => c.startsWith('npm run') || c === 'npm start')) resolve(c);
  });

  it('npm start with no flags, then three node-app devices (different users; secure aggregation needs three) train rounds with it', async () => {
    const start = resolve('npm start');
    // Only the port differs from the README: several suites share this machine.
    const coordinator = runTsx(start.file, [...start.args, '--port', '0', '--host', '127.0.0.1']);
    running.push(coordinator);
    const ready = JSON.parse(await coordinator.line(/"msg":"fedrec coordinator ready"/)) as Record<string, string>;
    assert.equal(ready['model'], 'neumf', 'the default model is the recommender');
    for (const key of ['dashboard', 'api', 'metrics', 'listening']) assert.ok(ready[key], `prints its ${key} URL`);

    const app = resolve('npm run example:node-app');
    const devices = [1, 2, 3].map((n) =>
      runTsx(app.file, [...app.args, '--url', ready['url']!, '--device-dir', join(dir, `device-${n}`), '--exit-after-rounds', '2']),
    );
    running.push(...devices);
    const codes = await Promise.all(devices.map((d) => d.exited));
    for (const [i, d] of devices.entries()) {
      assert.equal(codes[i], 0, d.stderr());
      assert.match(d.stdout(), /^connected as client-\w+ to coordinator sha512:\w+/m);
      assert.match(d.stdout(), /^round \d+: sent a sealed delta of \d+ bytes \(\d+ examples\)$/m);
      assert.match(d.stdout(), /^model v\d+: recommended (\S+ \([\d.]+(, because you liked \S+)?\)(, )?){5}$/m);
    }
    // Each device recorded the synthetic history of a user picked by its id: two devices, two histories.
    const histories = devices.map((d) => /(\d+) events on this device/.exec(d.stdout())?.[1]);
    const recs = devices.map((d) => /^recommended now: (.*)$/m.exec(d.stdout())?.[1]);
    assert.ok(histories[0] !== histories[1] || recs[0] !== recs[1], 'the two devices are different users');
    const status = (await (await fetch(`${ready['url']}/api/status`)).json()) as { modelVersion: number; roundsCommitted: number };
    assert.ok(status.modelVersion >= 2 && status.roundsCommitted === status.modelVersion);
  });

  it('npm run quickstart: writes the sample log, then trains on it with one device per user', async () => {
    const csv = join(dir, 'events.csv');
    const qs = resolve('npm run quickstart -- --make-sample events.csv');
    const make = runTsx(
      qs.file,
      qs.args.map((a) => (a === 'events.csv' ? csv : a)),
    );
    assert.equal(await make.exited, 0, make.stderr());
    assert.match(make.stdout(), /^wrote \d+ events to /m);

    const train = resolve('npm run quickstart -- --csv events.csv');
    const run = runTsx(train.file, [...train.args.map((a) => (a === 'events.csv' ? csv : a)), '--rounds', '2', '--port', '0']);
    running.push(run);
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(run.stdout(), /: \d+ interactions kept from \d+ lines .*; 60 users, \d+ items$/m);
    assert.match(run.stdout(), /^dashboard: http:\/\/127\.0\.0\.1:\d+\/ /m);
    assert.match(run.stdout(), /^2 rounds with 60 devices: federated HR@10 [\d.]+ .* against ItemPop [\d.]+$/m);
    assert.match(run.stderr(), /rounds .*2\/2/, 'the progress bar reached the last round');
  });
});
