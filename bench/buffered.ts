// Sync rounds vs buffered asynchronous aggregation (FedBuff) under heavy-tailed device speeds, in one run.
// Run: npm run bench -- buffered                 (ML-100K from ../shared/data; synthetic when absent)
//      npm run bench -- buffered --synthetic     (the embedded generator)
//
// What ships, measured the way an operator runs it: `runSocketSimulation` (apps/simulate) starts the
// coordinator (createCoordinator, its own strategy, mode 'sync' or 'buffered') and one real SDK client per
// user over Socket.IO on loopback, in worker threads. Every device gets the same seeded slowdown factor in
// both modes (apps/simulate/socket/device-speed.ts: log-normal σ, plus a fraction of stragglers f× slower):
// it answers f × its measured training time after its fit started. Sync: C devices per round, each round
// waits for its slowest. Buffered: C fits in flight at all times, a version every K accepted updates.
// Evaluation (federated, the He et al. protocol over every device) runs after the same number of
// accepted updates in both modes; each run stops at the first evaluated version with HR@10 ≥ target.
// Time to target = training start (every device connected) to that version's commit; bytes likewise.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { ML100K_PATH, loadMovieLensFile } from '@fedrec/recsys/data/files.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { parseStalenessPolicy } from '@fedrec/coordinator/buffered/staleness.js';
import { parseDeviceSpeed, parseStragglers, slowdownFactors } from '@fedrec/simulate/socket/device-speed.js';
import { runSocketSimulation, type SocketSimulationResult } from '@fedrec/simulate/socket/run-simulation.js';

const F = RECSYS_DEFAULTS.federated;
const opts = new Command()
  .option('--data <path>', 'MovieLens u.data', ML100K_PATH)
  .option('--synthetic', 'use the seeded synthetic generator')
  .option('--synthetic-users <n>', 'synthetic: users', '300')
  .option('--synthetic-items <n>', 'synthetic: items', '400')
  .option('--synthetic-interactions <n>', 'synthetic: mean interactions per user', '30')
  .option('--clients <n>', 'devices (users), default all')
  .option('--concurrency <n>', 'C: devices per sync round = fits in flight in buffered mode', '100')
  .option('--buffer-size <n>', 'K: accepted updates per buffered version', '20')
  .option('--staleness <policy>', 'constant | polynomial[:a] | hinge[:after[:slope]]', 'polynomial:0.5')
  .option('--max-staleness <n>', 'refuse updates more versions behind than this', '50')
  .option('--device-speed <spec>', 'uniform | lognormal:SIGMA', 'lognormal:1')
  .option('--stragglers <spec>', 'FRACTIONxFACTOR or none', '0.1x10')
  .option('--target-hr <x>', 'stop at the first evaluated version with HR@10 >= x', '0.6')
  .option('--evaluate-every <n>', 'evaluate after every n × C accepted updates (both modes)', '5')
  .option('--max-updates <n>', 'give up after this many accepted updates', '60000')
  .option('--time-limit-min <m>', 'give up on a mode after this many minutes from its first device connecting (then its time to target is only bounded)')
  .option('--lr <x>', 'client learning rate', String(F.clientLr))
  .option('--server-lr <x>', 'server learning rate (FedAvg)', String(F.serverLr))
  .option('--workers <n>', 'worker threads hosting the devices', '2')
  .option('--modes <list>', 'sync,buffered', 'sync,buffered')
  .option('--seed <n>', 'seed', '42')
  .parse()
  .opts<Record<string, string | boolean | undefined>>();
const num = (k: string) => Number(opts[k]);
const str = (k: string) => String(opts[k]);

const useMl = !opts['synthetic'] && existsSync(str('data'));
const data = useMl
  ? loadMovieLensFile(str('data'))
  : generateSyntheticInteractions({
      seed: num('seed'),
      users: num('syntheticUsers'),
      items: num('syntheticItems'),
      interactionsPerUser: num('syntheticInteractions'),
    });
const split = leaveOneOut(data, { seed: num('seed'), negatives: RECSYS_DEFAULTS.split.negatives });
const users = opts['clients'] ? split.users.slice(0, num('clients')) : split.users;
const C = Math.min(num('concurrency'), users.length);
const K = num('bufferSize');
const speed = { lognormalSigma: parseDeviceSpeed(str('deviceSpeed')), stragglers: parseStragglers(str('stragglers')) };
const factors = slowdownFactors(users.length, speed, num('seed'));
const slowdown = Object.fromEntries(users.map((u, i) => [u.user, factors[i]!]));
const sorted = [...factors].sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

console.log(
  `data: ${useMl ? 'ML-100K' : `synthetic (${num('syntheticInteractions')} per user)`}, ${users.length} devices, ${split.numItems} items; C = ${C}, K = ${K}, staleness ${str('staleness')} (max ${num('maxStaleness')}); target HR@10 ${num('targetHr')}`,
);
console.log(
  `device slowdown (${str('deviceSpeed')}, stragglers ${str('stragglers')}): median ${q(0.5).toFixed(2)}x, p90 ${q(0.9).toFixed(1)}x, p99 ${q(0.99).toFixed(1)}x, max ${sorted.at(-1)!.toFixed(1)}x`,
);

const maxUpdates = num('maxUpdates');
const everyUpdates = num('evaluateEvery') * C;
const common = {
  users,
  modelSpec: { name: RECSYS_DEFAULTS.model, options: recsysModelOptions(split.numItems) },
  clientsPerRound: C,
  trainingConfig: { localEpochs: F.localEpochs, batchSize: F.batchSize, learningRate: num('lr'), optimizer: 'sgd' as const, extra: { negatives: F.negatives } },
  serverLearningRate: num('serverLr'),
  workers: num('workers'),
  engine: 'js' as const,
  seed: num('seed'),
  slowdown,
  targetHr: num('targetHr'),
  roundTimeoutMs: 600_000,
  ...(opts['timeLimitMin'] ? { timeLimitMs: num('timeLimitMin') * 60_000 } : {}),
};

async function run(mode: 'sync' | 'buffered'): Promise<SocketSimulationResult> {
  const t0 = Date.now();
  const perVersion = mode === 'sync' ? C : K;
  const result = await runSocketSimulation({
    ...common,
    mode,
    rounds: Math.ceil(maxUpdates / perVersion),
    evaluateEvery: Math.max(1, Math.round(everyUpdates / perVersion)),
    ...(mode === 'buffered'
      ? {
          buffered: {
            bufferSize: K,
            concurrency: C,
            maxStaleness: num('maxStaleness'),
            staleness: parseStalenessPolicy(str('staleness')),
          },
        }
      : {}),
    onRound: (r) => {
      if (r.hr10 !== null) console.log(`  ${mode}: version ${r.modelVersion}  HR@10 ${r.hr10.toFixed(4)}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    },
    onEvaluated: (r) => console.log(`  ${mode}: version ${r.modelVersion}  HR@10 ${r.hr10!.toFixed(4)}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`),
  });
  return result;
}

const results: Array<[string, SocketSimulationResult]> = [];
for (const mode of str('modes').split(',') as Array<'sync' | 'buffered'>) {
  console.log(`${mode}:`);
  results.push([mode, await run(mode)]);
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
console.log('\nmode       reached   version  updates   time to target   up to target   down to target   final HR@10   training time');
for (const [mode, r] of results) {
  const t = r.target;
  console.log(
    `${mode.padEnd(10)} ${t ? t.hr10.toFixed(4) : 'no    '}    ${String(t?.modelVersion ?? '-').padStart(7)}  ${String(r.updatesAccepted).padStart(7)}   ${(t ? s(t.ms) : '-').padStart(14)}   ${(t ? mb(t.bytesUp) : '-').padStart(12)}   ${(t ? mb(t.bytesDown) : '-').padStart(14)}   ${(r.final ? r.final.hr10.toFixed(4) : '-').padStart(11)}   ${s(r.wallClockMs - r.connectMs).padStart(13)}${r.stopped ? `  (stopped: ${r.stopped})` : ''}`,
  );
}
const sync = results.find(([m]) => m === 'sync')?.[1];
const buffered = results.find(([m]) => m === 'buffered')?.[1];
if (sync?.target && buffered?.target) console.log(`buffered / sync time to target: ${(buffered.target.ms / sync.target.ms).toFixed(2)}x (aim: <= 0.5x)`);
else if (sync && buffered?.target)
  // Sync never got there: its time to target is more than all its training time, so the ratio is below this.
  console.log(
    `buffered / sync time to target: < ${(buffered.target.ms / (sync.wallClockMs - sync.connectMs)).toFixed(2)}x (sync did not reach ${num('targetHr')} in ${s(sync.wallClockMs - sync.connectMs)} of training; aim: <= 0.5x)`,
  );
