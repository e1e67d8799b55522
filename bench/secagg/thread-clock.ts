import { openSync, readSync } from 'node:fs';

/**
 * The calling thread's CPU time in ms, from /proc/thread-self/schedstat (Linux: nanoseconds on CPU; one pread of
 * an open descriptor, ~10 µs). Each worker thread and the main thread read their own. Unlike process.cpuUsage it
 * leaves out other threads: the other simulated clients' workers, and V8's helper threads (concurrent marking and
 * sweeping, shared by all heaps). Pauses of this thread's own garbage collector still count. Coarse: the kernel
 * advances it only at scheduler ticks and context switches (4 ms steps here), so it suits sums over many steps,
 * not one sub-millisecond step (the in-process harness's --clock thread; the workers harness uses cpu-clock.ts).
 */
export function threadClock(): () => number {
  const fd = openSync('/proc/thread-self/schedstat', 'r');
  const buf = Buffer.alloc(64);
  return () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    return Number(buf.toString('latin1', 0, n).split(' ')[0]) / 1e6;
  };
}
