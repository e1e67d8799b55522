import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { BufferedStatus, BufferedStatsListener } from './buffered-stats.js';

/** What the metrics read from the buffered engine: its status at scrape time, and each acceptance as it happens. */
export interface BufferedMetricsSource {
  status(): BufferedStatus;
  listen(listener: BufferedStatsListener): void;
}

/** Staleness buckets (versions behind): fine near 0, where a healthy fleet sits, coarser towards maxStaleness. */
const STALENESS_BUCKETS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55];

/**
 * Buffered mode's Prometheus metrics, in the coordinator's registry (only in buffered mode, so a sync
 * coordinator's /metrics has no empty buffered series): updates per second (the same 10 s window as
 * /api/status), the open buffer's fill and the tasks in flight (read at scrape time), a staleness
 * histogram and counters of refused (STALE_UPDATE) and dropped updates (counted as they happen).
 * Versions, accepted updates and round durations come from the round metrics as in sync mode (each
 * buffer commits as a round).
 */
export function registerBufferedMetrics(registry: Registry, source: BufferedMetricsSource): void {
  new Gauge({
    name: 'fedrec_buffered_updates_per_second',
    help: 'Buffered mode: updates accepted per second over the last 10 s',
    registers: [registry],
    collect() {
      this.set(source.status().updatesPerSecond);
    },
  });
  new Gauge({
    name: 'fedrec_buffered_buffer_fill',
    help: 'Buffered mode: accepted updates in the open buffer (a version is committed at fedrec_buffered_buffer_size)',
    registers: [registry],
    collect() {
      this.set(source.status().buffered);
    },
  });
  new Gauge({
    name: 'fedrec_buffered_buffer_size',
    help: 'Buffered mode: K, the accepted updates per committed version',
    registers: [registry],
    collect() {
      this.set(source.status().bufferSize);
    },
  });
  new Gauge({
    name: 'fedrec_buffered_tasks_in_flight',
    help: 'Buffered mode: fit and evaluate tasks out at devices',
    registers: [registry],
    collect() {
      this.set(source.status().inFlight);
    },
  });
  const staleness = new Histogram({
    name: 'fedrec_buffered_staleness',
    help: 'Buffered mode: staleness (versions behind the current model) of each accepted update',
    buckets: STALENESS_BUCKETS,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'fedrec_buffered_refused_stale_total',
    help: 'Buffered mode: updates refused with STALE_UPDATE (beyond maxStaleness, or trained before a catalogue growth)',
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'fedrec_buffered_dropped_total',
    help: 'Buffered mode: accepted updates dropped with their buffer (a stop, a catalogue growth, a finished run)',
    registers: [registry],
  });
  source.listen({
    accepted: (s) => staleness.observe(s),
    refusedStale: () => refused.inc(),
    dropped: (n) => dropped.inc(n),
  });
}
