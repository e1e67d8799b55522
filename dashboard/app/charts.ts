import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import type { DashboardRound } from '../types.js';

Chart.register(LineController, BarController, LineElement, BarElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

const COLORS = ['#2f6fde', '#e08a1e', '#1d9a5b', '#d2452f', '#7b4fc9', '#5d6b82'];

type Kind = 'line' | 'bar';

/** One series: a label and how to read its value off a round (null = no point). */
interface Series {
  label: string;
  value: (r: DashboardRound) => number | null;
  kind?: Kind;
  stack?: string;
  axis?: 'y' | 'y1';
}

/** A Chart.js chart whose x axis is the round id and whose series are read off round records. */
export class RoundChart {
  private readonly chart: Chart;
  private series: Series[];

  constructor(canvas: HTMLCanvasElement, series: Series[], opts: { yTitle?: string; y1Title?: string; stacked?: boolean; min?: number; max?: number } = {}) {
    this.series = series;
    const config: ChartConfiguration = {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
        scales: {
          // Offset keeps the first and last bars whole.
          x: { title: { display: true, text: 'round' }, stacked: opts.stacked ?? false, offset: true },
          y: {
            beginAtZero: true,
            stacked: opts.stacked ?? false,
            title: { display: opts.yTitle !== undefined, text: opts.yTitle ?? '' },
            ...(opts.min !== undefined ? { min: opts.min } : {}),
            ...(opts.max !== undefined ? { max: opts.max } : {}),
          },
          ...(opts.y1Title !== undefined
            ? { y1: { position: 'right' as const, beginAtZero: true, title: { display: true, text: opts.y1Title }, grid: { drawOnChartArea: false } } }
            : {}),
        },
      },
    };
    this.chart = new Chart(canvas, config);
  }

  /** Replaces the series (failure codes appear as they happen). */
  setSeries(series: Series[]): void {
    this.series = series;
  }

  update(rounds: readonly DashboardRound[]): void {
    this.chart.data.labels = rounds.map((r) => String(r.roundId));
    this.chart.data.datasets = this.series.map((s, i) => {
      const color = COLORS[i % COLORS.length]!;
      const kind = s.kind ?? 'line';
      return {
        type: kind,
        label: s.label,
        data: rounds.map(s.value),
        borderColor: color,
        backgroundColor: kind === 'bar' ? `${color}bb` : color,
        pointRadius: rounds.length > 60 ? 0 : 2,
        spanGaps: true,
        ...(s.stack !== undefined ? { stack: s.stack } : {}),
        ...(s.axis !== undefined ? { yAxisID: s.axis } : {}),
      };
    }) as Chart['data']['datasets'];
    this.chart.update();
  }
}
