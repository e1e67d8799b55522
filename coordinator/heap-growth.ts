import { setFlagsFromString } from 'node:v8';

/**
 * V8's old-generation growing factor for the coordinator service, as 1 + percent/100 (V8's
 * `--heap-growing-percent`; 0 = V8's own dynamic factor). Why the service sets it: every update's bytes
 * arrive in fresh socket-read buffers on the main thread (Node allocates each read of a server socket anew),
 * and V8 counts the ArrayBuffer memory allocated since the last mark-compact against the old generation's
 * limit. With its dynamic factor the limit sits a few tens of MB above the live heap, so a mark-compact of the
 * whole main heap (a few hundred thousand session objects at 5,000 clients) ran every few tens of updates: most
 * of the event loop's long stalls during a round, and most of the GC threads' CPU. A fixed factor of 4 makes
 * them about ten times rarer; the buffers, already garbage, wait longer to be freed (peak RSS: see README
 * "Throughput").
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 300;

/** Sets the factor for this process (every isolate, the update workers' too); takes effect from the next GC. */
export function setHeapGrowingPercent(percent: number): void {
  if (!(Number.isInteger(percent) && percent >= 0 && percent <= 1000))
    throw new RangeError(`heap growing percent must be an integer in 0..1000, got ${percent}`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
