/**
 * Waits one macrotask, so timers, socket reads (Socket.IO pings) and UI events queued behind a long
 * computation run before it goes on. A resolved promise is not enough: microtasks run before any of them.
 * Node: setImmediate (runs right after pending I/O). Browsers: a MessageChannel message (setTimeout(0)
 * is clamped to 4 ms after a few nested calls, and throttled in background tabs). setTimeout elsewhere.
 */
type Scheduler = (run: () => void) => void;

interface MacrotaskGlobals {
  setImmediate?: (run: () => void) => unknown;
  setTimeout?: (run: () => void, ms: number) => unknown;
  MessageChannel?: new () => { port1: { onmessage: (() => void) | null; close?(): void }; port2: { postMessage(m: unknown): void; close?(): void } };
}

function pickScheduler(): Scheduler {
  const g = globalThis as unknown as MacrotaskGlobals;
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate;
    return (run) => void setImmediate(run);
  }
  if (typeof g.MessageChannel === 'function') {
    // One channel for all waiters: each message wakes the oldest of them, in order.
    const channel = new g.MessageChannel();
    const queue: Array<() => void> = [];
    channel.port1.onmessage = () => queue.shift()?.();
    return (run) => {
      queue.push(run);
      channel.port2.postMessage(0);
    };
  }
  if (typeof g.setTimeout === 'function') {
    const setTimeout = g.setTimeout;
    return (run) => void setTimeout(run, 0);
  }
  return (run) => void Promise.resolve().then(run);
}

let scheduler: Scheduler | undefined;

export function yieldToEventLoop(): Promise<void> {
  scheduler ??= pickScheduler();
  const schedule = scheduler;
  return new Promise((resolve) => schedule(resolve));
}

/**
 * A long loop's way to stay responsive: `if (slicer.due()) await slicer.pause()` between steps
 * yields to the event loop once `everyMs` of work has passed since the last yield; in between it
 * costs one clock read and no promise.
 */
export class TimeSlicer {
  private last = performance.now();
  constructor(private readonly everyMs = DEFAULT_SLICE_MS) {}

  due(): boolean {
    return performance.now() - this.last >= this.everyMs;
  }

  async pause(): Promise<void> {
    await yieldToEventLoop();
    this.last = performance.now();
  }
}

/** Long work yields after this many milliseconds: pings, acks and UI events wait at most about this long. */
export const DEFAULT_SLICE_MS = 10;
