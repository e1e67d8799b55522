// One configuration of the device benchmark in its own Node process, so that its peak RSS is its own.
// Prints one JSON line: the DeviceRow plus the tfjs backend and the process's peak RSS.
import { selectBackend } from '@fedrec/client-sdk/node/index.js';
import { measureDevice } from './measure.js';

const [items = '1682', engine = 'default', budget = '3000'] = process.argv.slice(2);
const backend = await selectBackend();
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const row = await measureDevice({ numItems: Number(items), ...(engine === 'default' ? {} : { engine }), budgetMs: Number(budget), cpuMs });
console.log(JSON.stringify({ ...row, backend, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
