import type { LogFn, Logger } from './logger.js';

/**
 * Caps the log lines one client (or address) can cause: at most `perMinute` lines per key per
 * minute; the rest are counted and reported as one "suppressed N" line when the key logs again in a
 * later minute (or on flush). A hostile client then costs a bounded amount of log, however fast it sends.
 */
export class LogRateLimiter {
  private readonly windows = new Map<string, { start: number; lines: number; suppressed: number }>();

  constructor(
    private readonly base: Logger,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A logger whose lines count against `key` (bindings are added to every line). */
  forKey(key: string, bindings: Record<string, unknown> = {}): Logger {
    const child = this.base.child(bindings);
    const limited =
      (level: 'debug' | 'info' | 'warn' | 'error'): LogFn =>
      (objOrMsg: object | string, msg?: string) => {
        if (!this.allow(key, child)) return;
        if (typeof objOrMsg === 'string') child[level](objOrMsg);
        else child[level](objOrMsg, msg);
      };
    return {
      debug: limited('debug'),
      info: limited('info'),
      warn: limited('warn'),
      error: limited('error'),
      child: (more) => this.forKey(key, { ...bindings, ...more }),
    };
  }

  /** Reports every pending "suppressed" count (on stop). */
  flush(): void {
    for (const [key, w] of this.windows) this.report(key, w.suppressed, this.base);
    this.windows.clear();
  }

  private allow(key: string, logger: Logger): boolean {
    if (this.perMinute <= 0) return true;
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= 60_000) {
      if (w) this.report(key, w.suppressed, logger);
      if (!w && this.windows.size > 10_000) this.sweep(t);
      w = { start: t, lines: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (w.lines < this.perMinute) {
      w.lines++;
      return true;
    }
    w.suppressed++;
    return false;
  }

  private report(key: string, suppressed: number, logger: Logger): void {
    if (suppressed > 0) logger.warn({ logKey: key, suppressed }, `suppressed ${suppressed} log lines from ${key} (limit ${this.perMinute} a minute)`);
  }

  private sweep(t: number): void {
    for (const [key, w] of this.windows) {
      if (t - w.start < 60_000) continue;
      this.report(key, w.suppressed, this.base);
      this.windows.delete(key);
    }
  }
}
