// `npm run demo:browser`: coordinator + dashboard + demo page + simulated devices, until Ctrl-C.
import { Command } from 'commander';
import { startBrowserDemo } from './server.js';

const program = new Command('demo:browser')
  .option('--port <n>', 'HTTP + Socket.IO port', (v) => Number(v), 8080)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--simulated <n>', 'simulated Node devices', (v) => Number(v), 6)
  .option('--round-interval-ms <n>', 'pause between rounds', (v) => Number(v), 1500)
  .option('--synthetic', 'use synthetic data even when MovieLens 100K is present', false)
  .parse();
const opts = program.opts<{ port: number; host: string; simulated: number; roundIntervalMs: number; synthetic: boolean }>();

const demo = await startBrowserDemo({
  port: opts.port,
  host: opts.host,
  simulatedClients: opts.simulated,
  roundIntervalMs: opts.roundIntervalMs,
  ...(opts.synthetic ? { dataPath: null } : {}),
});
console.log(`catalogue: ${demo.catalog.items.length} items (${demo.catalog.source}); ${demo.simulated.length} simulated devices connected`);
console.log(`dashboard: ${demo.dashboardUrl}`);
console.log(`demo app:  ${demo.demoUrl}   (open it in several browser profiles to add devices)`);
const stop = async () => {
  console.log('stopping…');
  await demo.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
