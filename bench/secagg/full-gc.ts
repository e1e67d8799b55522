import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { processCpuMs } from './cpu-clock.js';

/**
 * A full, synchronous garbage collection of the calling thread's heap (V8's gc(), exposed at run time so the
 * benchmark needs no node flag). Run untimed before each measured round on both sides, so that no round pays for
 * the garbage the previous one (or the previous row) left: without it, the first round of each row paid for the
 * previous row's and measured up to 4x slower (plain at 1,000 clients: 1.14 s with no dropout after a secagg+
 * round, 0.34-0.58 s in the next rows).
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;

export function fullGc(): void {
  gc();
}

/** A young-generation collection (scavenge) of the calling thread's heap: what collecting a step's own garbage costs. */
export function minorGc(): void {
  gc({ type: 'minor' });
}

/**
 * Idle after a collection or a side's turn. V8 finishes part of a heap's garbage collection on helper threads
 * (concurrent marking and sweeping) after the JavaScript that made the garbage has returned; process CPU time
 * would charge that tail to whichever step runs next, on either side. Idling lets it end uncounted, as it runs
 * beside the main thread on a device or coordinator with a spare core; collection pauses on a step's own thread
 * still count.
 * `untilQuiet` false: a fixed 15 ms (the old accounting, --client-heap shared). `untilQuiet` true (--client-heap own):
 * at least 15 ms, then until one 5 ms poll passes with under 0.3 ms of process CPU spent (the poll's own clock
 * reading included), at most 500 ms. Why: under a load of 10-15 on 2 cores a helper thread gets a fraction of a core,
 * so a collection's tail can outlast a fixed idle. How much this changes the figures was not measured apart.
 */
const MIN_MS = 15;
const MAX_MS = 500;
const POLL_MS = 5;
const QUIET_CPU_MS = 0.3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function settle(untilQuiet: boolean): Promise<void> {
  const start = performance.now();
  await sleep(MIN_MS);
  if (!untilQuiet) return;
  for (;;) {
    const before = processCpuMs();
    await sleep(POLL_MS);
    if (processCpuMs() - before < QUIET_CPU_MS || performance.now() - start >= MAX_MS) return;
  }
}
