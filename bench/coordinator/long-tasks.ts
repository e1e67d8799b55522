/**
 * A long-task log for the coordinator's event loop: a 5 ms timer notes every turn that came back more than
 * `thresholdMs` late, with the stall's window on the monotonic clock in µs (process.hrtime, the clock of
 * `--cpu-prof` profiles), so bench/coordinator/profile-window.ts can name what ran in each one.
 * monitorEventLoopDelay gives the distribution; this gives the moments.
 */
export class LongTasks {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  readonly windowsUs: Array<[number, number]> = [];

  constructor(
    private readonly thresholdMs = 50,
    private readonly tickMs = 5,
  ) {}

  start(): void {
    if (this.timer) return;
    this.last = nowUs();
    this.timer = setInterval(() => {
      const now = nowUs();
      if (now - this.last > (this.thresholdMs + this.tickMs) * 1000) this.windowsUs.push([this.last, now]);
      this.last = now;
    }, this.tickMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
