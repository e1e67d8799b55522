import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full, synchronous garbage collection of the calling thread's heap (V8's gc(), exposed at run time so the
 * benchmark needs no node flag). Run untimed before each measured round on both sides, so that no round pays for
 * the garbage the previous one (or the previous row) left: without it, the first round of each row paid for the
 * previous row's and measured up to 4x slower (plain at 1,000 clients: 1.14 s with no dropout after a secagg+
 * round, 0.34-0.58 s in the next rows).
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function fullGc(): void {
  gc();
}
