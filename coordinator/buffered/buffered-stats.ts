/** What /api/status (`buffered`) and the dashboard's buffered tile report. */
export interface BufferedStatus {
  bufferSize: number;
  maxStaleness: number;
  stalenessPolicy: string;
  /** Updates in the buffer now (committed at bufferSize). */
  buffered: number;
  /** Fit and evaluate tasks out at devices now. */
  inFlight: number;
  /** Accepted updates per second over the last `windowMs`. */
  updatesPerSecond: number;
  windowMs: number;
  accepted: number;
  /** Refused as too stale (STALE_UPDATE). */
  refusedStale: number;
  /** Versions committed by this engine since start. */
  commits: number;
  /** Accepted updates by staleness: index s counts updates s versions behind (the last bin: maxStaleness). */
  stalenessHistogram: number[];
  /** Updates dropped with their buffer (a stop, or a catalogue growth), since start. */
  dropped: number;
  /** Upload pacing (absent when off): sealed bytes granted now, devices waiting for a slot, the most bytes ever granted at once. */
  uploads?: { bytesGranted: number; waiting: number; peakBytes: number };
  /**
   * The update pool (absent with updateWorkers 0, and until the first update): its worker threads, the envelopes handed to them to open
   * since start, the evaluate results handed to them since start, updates in flight in it now, and worker crashes since start.
   */
  updatePool?: { workers: number; envelopes: number; evaluations: number; inFlight: number; crashes: number };
}

/** Hears each counted event as it happens (buffered-metrics.ts: the Prometheus histogram and counters). */
export interface BufferedStatsListener {
  accepted(staleness: number): void;
  refusedStale(): void;
  dropped(updates: number): void;
}

/** Counters behind BufferedStatus: O(window) timestamps, one bin per staleness value. */
export class BufferedStats {
  private readonly times: number[] = [];
  private readonly histogram: number[];
  private readonly listeners: BufferedStatsListener[] = [];
  accepted = 0;
  refusedStale = 0;
  commits = 0;
  dropped = 0;

  constructor(
    maxStaleness: number,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.histogram = new Array<number>(maxStaleness + 1).fill(0);
  }

  listen(listener: BufferedStatsListener): void {
    this.listeners.push(listener);
  }

  acceptedAt(staleness: number): void {
    this.accepted += 1;
    const bin = Math.min(staleness, this.histogram.length - 1);
    this.histogram[bin] = (this.histogram[bin] ?? 0) + 1;
    this.times.push(this.now());
    this.trim();
    for (const l of this.listeners) l.accepted(staleness);
  }

  refused(): void {
    this.refusedStale += 1;
    for (const l of this.listeners) l.refusedStale();
  }

  droppedUpdates(updates: number): void {
    this.dropped += updates;
    if (updates > 0) for (const l of this.listeners) l.dropped(updates);
  }

  /** Accepted updates per second over the window (fewer seconds while the engine is younger than it). */
  updatesPerSecond(): number {
    this.trim();
    return this.times.length / (this.windowMs / 1000);
  }

  snapshot(): { updatesPerSecond: number; windowMs: number; stalenessHistogram: number[] } {
    return { updatesPerSecond: this.updatesPerSecond(), windowMs: this.windowMs, stalenessHistogram: [...this.histogram] };
  }

  private trim(): void {
    const since = this.now() - this.windowMs;
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! < since) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
}
