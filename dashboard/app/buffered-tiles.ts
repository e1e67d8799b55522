import type { CoordinatorStatus } from '@fedrec/coordinator/coordinator-status.js';

const BARS = '▁▂▃▄▅▆▇█';

/**
 * The staleness histogram as one line of bars, one per staleness value up to the largest seen
 * (the last bin of the coordinator's histogram collects everything at maxStaleness).
 */
export function stalenessBars(histogram: readonly number[]): string {
  let last = histogram.length - 1;
  while (last > 0 && histogram[last] === 0) last--;
  const shown = histogram.slice(0, last + 1);
  const max = Math.max(1, ...shown);
  return shown.map((n) => (n === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor(((BARS.length - 1) * n) / max))])).join('');
}

/** Buffered mode's tiles (updates per second, staleness histogram); hidden in sync mode. */
export function renderBufferedTiles(status: CoordinatorStatus, el: (id: string) => HTMLElement): void {
  const b = status.buffered;
  for (const id of ['tile-updates', 'tile-staleness']) el(id).hidden = b === undefined;
  if (!b) return;
  el('t-updates').textContent = `${b.updatesPerSecond.toFixed(1)}/s · buffer ${b.buffered}/${b.bufferSize}`;
  const total = b.stalenessHistogram.reduce((n, c) => n + c, 0);
  const mean = total === 0 ? 0 : b.stalenessHistogram.reduce((n, c, s) => n + c * s, 0) / total;
  el('t-staleness').textContent = `${stalenessBars(b.stalenessHistogram)}  mean ${mean.toFixed(1)} · ${b.refusedStale} refused`;
  el('t-staleness').title = b.stalenessHistogram.map((c, s) => `${s}: ${c}`).join('\n');
}
