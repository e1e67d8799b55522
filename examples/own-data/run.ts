// `npm run example:own-data`: a coordinator with the default recommender, its dashboard, and a page
// where each person loads their own events file (DISCO-style: the file is read and trained on in the
// browser; only sealed deltas leave it). Open the page in several browser profiles for several devices.
import { Command, InvalidArgumentError } from 'commander';
import { createCoordinator } from '@fedrec/coordinator';
import { dashboardExtension } from '@fedrec/dashboard';
import { getModel } from '@fedrec/models/registry.js';
import { recsysModelSpec, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { DEFAULT_SYNTHETIC } from '@fedrec/recsys/data/synthetic.js';
import { ownDataExtension } from './extension.js';

const whole = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a whole number.');
  return Number(v);
};
const opts = new Command('example:own-data')
  .description('A coordinator plus a page where each browser trains on a file its user picks.')
  .option('--port <n>', 'HTTP + Socket.IO port (0 = any free port)', whole, 8080)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--items <n>', 'catalogue size: item ids in the files are 0 .. n-1', whole, DEFAULT_SYNTHETIC.items)
  .option('--round-interval-ms <ms>', 'pause between rounds', whole, 2000)
  .parse()
  .opts<{ port: number; host: string; items: number; roundIntervalMs: number }>();

const modelSpec = recsysModelSpec(opts.items);
const coordinator = createCoordinator({
  port: opts.port,
  host: opts.host,
  modelSpec,
  initialWeights: getModel(modelSpec.name).initialWeights(modelSpec.options, 42),
  trainingConfig: recsysTrainingConfig(),
  roundIntervalMs: opts.roundIntervalMs,
  evaluateEvery: 5,
  extensions: [dashboardExtension(), ownDataExtension()],
});
const { url } = await coordinator.start().catch((err: unknown) => {
  console.error(`example:own-data: ${(err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `--port ${opts.port} is in use; pick another` : String(err)}`);
  process.exit(1);
});
console.log(`own-data page: ${url}/own-data   (load a file of itemId,kind[,value[,timestamp]] lines; item ids 0..${opts.items - 1})`);
console.log(`dashboard:     ${url}/`);
const stop = () => void coordinator.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
