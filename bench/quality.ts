// The README quality table: `npm run simulate` (real Socket.IO, the engine the SDK picks) once per
// cell of model x strategy x personalization, on the same data and split, then one markdown table.
// Run: npm run bench -- quality --data ../shared/data/ml-100k/u.data --rounds 60
//      npm run bench -- quality --cells seq:fedavg:none,seq:fedavg:pfedrec --rounds 20
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ML100K_PATH } from '@fedrec/recsys/data/files.js';
import type { SimulationReport } from '@fedrec/simulate/socket/report.js';

const DEFAULT_CELLS = 'neumf:fedavg:none,neumf:fedavg:pfedrec,seq:fedavg:none,seq:fedavg:pfedrec,seq:fedadam:none';

const o = new Command()
  .option('--data <path>', 'interactions for every cell (default: ML-100K when present, else synthetic)', existsSync(ML100K_PATH) ? ML100K_PATH : 'synthetic')
  .option('--cells <list>', 'model:strategy:personalization, comma-separated', DEFAULT_CELLS)
  .option('--rounds <n>', 'federated rounds per cell', '60')
  .option('--evaluate-every <k>', 'federated evaluation every k rounds', '10')
  .option('--extra <flags>', 'more simulate flags for every cell, e.g. "--lr 0.5"', '')
  .parse()
  .opts<{ data: string; cells: string; rounds: string; evaluateEvery: string; extra: string }>();

const simulate = fileURLToPath(new URL('../apps/simulate/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fedrec-quality-'));
const rows: Array<{ cell: string[]; report: SimulationReport }> = [];
for (const [k, cell] of o.cells.split(',').entries()) {
  const [model = 'neumf', strategy = 'fedavg', personalization = 'none'] = cell.split(':');
  const report = join(dir, `cell-${k}.json`);
  const args = ['--data', o.data, '--model', model, '--strategy', strategy, '--personalization', personalization, '--rounds', o.rounds];
  args.push('--evaluate-every', o.evaluateEvery, '--report', report, ...o.extra.split(' ').filter(Boolean));
  console.log(`\n== ${cell}: simulate ${args.join(' ')}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', simulate, ...args], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.log(`${cell}: simulate exited with ${run.status ?? run.signal}; left out of the table`);
    continue;
  }
  rows.push({ cell: [model, strategy, personalization], report: JSON.parse(readFileSync(report, 'utf8')) as SimulationReport });
}

const mb = (n: number) => (n / 1e6).toFixed(0);
console.log(
  `\nData: ${o.data}; ${o.rounds} rounds, every device every round; figures of the round chosen on validation (test HR@10/NDCG@10; - when no round was evaluated).\n`,
);
console.log('| model | strategy | personalization | HR@10 | NDCG@10 | rounds | wall-clock | MB up / down | engine |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const first = rows[0]?.report;
if (first) console.log(`| ItemPop | - | - | ${first.itemPop.hr10.toFixed(4)} | ${first.itemPop.ndcg10.toFixed(4)} | - | - | - | - |`);
for (const { cell, report: r } of rows) {
  const f = r.federated;
  console.log(
    `| ${cell.join(' | ')} | ${f.hr10?.toFixed(4) ?? '-'} | ${f.ndcg10?.toFixed(4) ?? '-'} | ${f.rounds.length} | ${(f.wallClockMs / 1000).toFixed(0)} s | ${mb(f.bytesUp)} / ${mb(f.bytesDown)} | ${f.engine ?? '?'} |`,
  );
}
