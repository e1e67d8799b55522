// The README quality table: `npm run simulate` (real Socket.IO, the engine the SDK picks) once per
// cell of model x strategy x personalization, on the same data and split, then one markdown table.
// Run: npm run bench -- quality --data ../shared/data/ml-100k/u.data --rounds 60
//      npm run bench -- quality --cells seq:fedavg:none,seq:fedavg:pfedrec --rounds 20
//      npm run bench -- quality --cells "neumf:fedyogi:none@--factors 16,mf:fedavg:pfedrec" --first-extra "--compare-centralized"
//      npm run bench -- quality --cells "mf:fedyogi:pfedrec,mf:fedyogi:pfedrec@--negative-exclusion validation --compare-centralized"
// A cell may carry its own simulate flags after "@" (e.g. its factors or client lr); --first-extra goes
// to the first cell only, so the centralized baselines (--compare-centralized) train once per table.
// A cell on another sampling protocol (--negative-exclusion) brings its own baselines in its own flags.
import { spawn } from 'node:child_process';
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
  .option('--first-extra <flags>', 'simulate flags for the first cell only, e.g. "--compare-centralized"', '')
  .parse()
  .opts<{ data: string; cells: string; rounds: string; evaluateEvery: string; extra: string; firstExtra: string }>();

/**
 * Runs one cell's simulate and resolves with its exit status. A run ended by --time-limit-min used to
 * print its report and then not exit (Socket.IO ack timers outliving coordinator.stop(), fixed in
 * coordinator/request.ts and guarded by test/simulation/time-limit-exit.test.ts). So that a regression
 * cannot stall a long table for ever, a child that has written its report gets 60 s to exit, then it is
 * killed, counted as finished (its report is complete) and the kill is printed: it is a bug to report.
 */
function runCell(args: string[], report: string): Promise<number | string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', simulate, ...args], { stdio: 'inherit' });
    let reportSeenAt = 0;
    const poll = setInterval(() => {
      if (!reportSeenAt && existsSync(report)) reportSeenAt = Date.now();
      if (reportSeenAt && Date.now() - reportSeenAt > 60_000) {
        console.log(
          `BUG: simulate wrote its report but did not exit within 60 s: killed (its report is complete; see test/simulation/time-limit-exit.test.ts)`,
        );
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve(0);
      }
    }, 1000);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve(code ?? signal ?? 'unknown');
    });
  });
}

const simulate = fileURLToPath(new URL('../apps/simulate/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fedrec-quality-'));
console.log(`reports: ${dir}`);
const flags = (v: string) => v.split(' ').filter(Boolean);
const mb = (n: number) => (n / 1e6).toFixed(0);
const s0 = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
/** The negative-sampling protocol a report ran under (reports from before the flag: 'held-out'). */
const protocolOf = (r: SimulationReport) => String(r.config['negativeExclusion'] ?? 'held-out');

const rows: Array<{ cell: string[]; flags: string; report: SimulationReport }> = [];
for (const [k, cell] of o.cells.split(',').entries()) {
  const [name = '', own = ''] = cell.split('@');
  const [model = 'neumf', strategy = 'fedavg', personalization = 'none'] = name.split(':');
  const report = join(dir, `cell-${k}.json`);
  const args = ['--data', o.data, '--model', model, '--strategy', strategy, '--personalization', personalization, '--rounds', o.rounds];
  args.push('--evaluate-every', o.evaluateEvery, '--report', report, ...flags(o.extra), ...flags(own), ...(k === 0 ? flags(o.firstExtra) : []));
  console.log(`\n== ${cell}: simulate ${args.join(' ')}`);
  const status = await runCell(args, report);
  if (status !== 0) {
    console.log(`${cell}: simulate exited with ${status}; left out of the table`);
    continue;
  }
  rows.push({ cell: [model, strategy, personalization], flags: own.trim(), report: JSON.parse(readFileSync(report, 'utf8')) as SimulationReport });
  printTable(false);
}

/**
 * The table so far. Printed after every cell as well as at the end, so a table cut short (killed,
 * out of time) still has every finished cell's row. Baseline rows come from every cell that ran
 * --compare-centralized, labelled with its protocol; each cell's ratio is to the strong baseline of
 * its own protocol (--negative-exclusion), so a strict cell is compared like for like.
 */
function printTable(final: boolean): void {
  console.log(
    `\n${final ? 'Table' : `Table so far (${rows.length} cell${rows.length === 1 ? '' : 's'} done)`}: data ${o.data}; ${o.rounds} rounds; figures of the round chosen on validation (test HR@10/NDCG@10; - when no round was evaluated); devices: simulated / evaluated in the chosen round; negatives: which held-out items training never samples as negatives (--negative-exclusion).\n`,
  );
  console.log(
    '| model | strategy | personalization | flags | negatives exclude | devices (evaluated) | HR@10 | NDCG@10 | chosen round / rounds | wall-clock | MB up / down | engine |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const first = rows[0]?.report;
  if (first)
    console.log(`| ItemPop | - | - | - | - | ${first.data.clients} | ${first.itemPop.hr10.toFixed(4)} | ${first.itemPop.ndcg10.toFixed(4)} | - | - | - | - |`);
  for (const { report: r } of rows) {
    const b = r.strongBaseline;
    if (b)
      console.log(
        `| centralized ${b.model}-${b.factors} (strong baseline${b.seeds > 1 ? `, ${b.seeds} seeds` : ''}) | Adam | - | lr ${b.learningRate}, L2 ${b.l2}, ${b.negatives} neg. | ${protocolOf(r)} | ${r.data.clients} | ${b.hr10.toFixed(4)} | ${b.ndcg10.toFixed(4)} | epoch ${b.bestEpoch} | ${s0(b.wallClockMs)} | - | - |`,
      );
    const c = r.centralized;
    if (c)
      console.log(
        `| centralized ${c.model}-${c.factors} | ${c.model === 'seq' ? 'SGD' : 'Adam'} | - | - | ${protocolOf(r)} | ${r.data.clients} | ${c.hr10.toFixed(4)} | ${c.ndcg10.toFixed(4)} | epoch ${c.bestEpoch} | ${s0(c.wallClockMs)} | - | - |`,
      );
  }
  for (const { cell, flags: own, report: r } of rows) {
    const f = r.federated;
    const evaluated = f.coverage ? `${f.coverage.covered === f.coverage.devices ? f.coverage.covered : `**${f.coverage.covered}**`}` : '-';
    console.log(
      `| ${cell.join(' | ')} | ${own || '-'} | ${protocolOf(r)} | ${r.data.clients} (${evaluated}) | ${f.hr10?.toFixed(4) ?? '-'} | ${f.ndcg10?.toFixed(4) ?? '-'} | ${f.chosenRound ?? '-'} / ${f.rounds.length} | ${s0(f.wallClockMs)} | ${mb(f.bytesUp)} / ${mb(f.bytesDown)} | ${f.engine ?? '?'} |`,
    );
  }
  const strong = new Map<string, NonNullable<SimulationReport['strongBaseline']>>();
  for (const { report: r } of rows) if (r.strongBaseline && !strong.has(protocolOf(r))) strong.set(protocolOf(r), r.strongBaseline);
  for (const { cell, flags: own, report: r } of rows) {
    const b = strong.get(protocolOf(r));
    const { hr10, ndcg10, stopped } = r.federated;
    if (hr10 !== null && ndcg10 !== null && b)
      console.log(
        `${cell.join(':')}${own ? `@${own}` : ''} / strong baseline (${protocolOf(r)}): HR@10 ${(hr10 / b.hr10).toFixed(3)}x  NDCG@10 ${(ndcg10 / b.ndcg10).toFixed(3)}x${stopped ? `  (ended early: ${stopped})` : ''}`,
      );
  }
}

printTable(true);
