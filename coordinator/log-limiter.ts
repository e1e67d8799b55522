import type { Logger } from './logger.js';

/**
 * Caps the log lines one client (or address) can cause: at most `perMinute` lines per key per
 * minute; the rest are counted and reported as one "suppressed N" line when the key logs again in a
 * later minute (or on flush). A hostile client then costs a bounded amount of log, however fast it sends.
 */
export class LogRateLimiter {
  private readonly windows = new Map<string, { start: number; lines: number; suppressed: number }>();

  constructor(
    readonly baseLogger: Logger,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A logger whose lines count against `key` (bindings are added to every line). Cheap to make: the
   * coordinator makes one or two per connection and most never log, so the base logger's child (a pino
   * child is a sizeable object) is only created at the first line that passes the limit, and the level
   * methods live on a prototype instead of four closures per call (idle memory per client, issue 12).
   */
  forKey(key: string, bindings: Record<string, unknown> = {}): Logger {
    return new KeyedLogger(this, key, bindings);
  }

  /** KeyedLogger's gate: false when `key` is over its limit this minute (a late "suppressed" line goes to `source`). */
  allowFor(key: string, source: { logger(): Logger }): boolean {
    return this.allow(key, source);
  }

  /** Reports every pending "suppressed" count (on stop). */
  flush(): void {
    for (const [key, w] of this.windows) this.report(key, w.suppressed, this.baseLogger);
    this.windows.clear();
  }

  private allow(key: string, source: { logger(): Logger }): boolean {
    if (this.perMinute <= 0) return true;
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= 60_000) {
      if (w && w.suppressed > 0) this.report(key, w.suppressed, source.logger());
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
      this.report(key, w.suppressed, this.baseLogger);
      this.windows.delete(key);
    }
  }
}

/** The logger forKey returns: counts against its key, builds its child logger on first use. */
class KeyedLogger implements Logger {
  private child_: Logger | undefined;

  constructor(
    private readonly limiter: LogRateLimiter,
    private readonly key: string,
    private readonly bindings: Record<string, unknown>,
  ) {}

  debug(objOrMsg: object | string, msg?: string): void {
    this.log('debug', objOrMsg, msg);
  }

  info(objOrMsg: object | string, msg?: string): void {
    this.log('info', objOrMsg, msg);
  }

  warn(objOrMsg: object | string, msg?: string): void {
    this.log('warn', objOrMsg, msg);
  }

  error(objOrMsg: object | string, msg?: string): void {
    this.log('error', objOrMsg, msg);
  }

  child(more: Record<string, unknown>): Logger {
    return this.limiter.forKey(this.key, { ...this.bindings, ...more });
  }

  /** The base logger's child with this key's bindings, made on first use. */
  logger(): Logger {
    return (this.child_ ??= this.limiter.baseLogger.child(this.bindings));
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', objOrMsg: object | string, msg?: string): void {
    if (!this.limiter.allowFor(this.key, this)) return;
    const child = this.logger();
    if (typeof objOrMsg === 'string') child[level](objOrMsg);
    else child[level](objOrMsg, msg);
  }
}
