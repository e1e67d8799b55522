import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { SimulationReport } from './report.js';

/** HR@10, NDCG@10 and training loss per round, with the centralized and ItemPop levels as dashed rules, as SVG. */
export async function metricsChartSvg(report: SimulationReport): Promise<string> {
  const points = report.federated.rounds.flatMap((r) => [
    ...(r.hr10 !== null ? [{ round: r.round, metric: 'HR@10', value: r.hr10 }] : []),
    ...(r.ndcg10 !== null ? [{ round: r.round, metric: 'NDCG@10', value: r.ndcg10 }] : []),
    ...(r.trainLoss !== null ? [{ round: r.round, metric: 'train loss', value: r.trainLoss }] : []),
  ]);
  const levels = [
    { metric: 'HR@10', baseline: 'ItemPop', value: report.itemPop.hr10 },
    { metric: 'NDCG@10', baseline: 'ItemPop', value: report.itemPop.ndcg10 },
    ...(report.centralized
      ? [
          { metric: 'HR@10', baseline: 'centralized', value: report.centralized.hr10 },
          { metric: 'NDCG@10', baseline: 'centralized', value: report.centralized.ndcg10 },
        ]
      : []),
  ];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `fedrec federated ${String(report.config['model'] ?? '')} on ${report.data.source}: metrics per round`,
    width: 640,
    height: 320,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'round', type: 'quantitative', title: 'round' },
          y: { field: 'value', type: 'quantitative', title: 'value' },
          color: { field: 'metric', type: 'nominal' },
        },
      },
      {
        data: { values: levels },
        mark: { type: 'rule' },
        encoding: {
          y: { field: 'value', type: 'quantitative' },
          color: { field: 'metric', type: 'nominal' },
          strokeDash: { field: 'baseline', type: 'nominal', title: 'baseline' },
        },
      },
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
