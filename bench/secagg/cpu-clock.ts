/**
 * Process CPU time in ms (user + system, getrusage: exact, not tick-sampled). The workers harness runs its client
 * host and the coordinator (main thread) strictly in turn (client-pool.ts), so a step timed on this clock is that
 * side's own CPU, including V8's helper threads collecting its own heap, and nothing of the other side's.
 * Why not the thread's own clock: /proc/thread-self/schedstat, the only per-thread clock Node 20 can read, only
 * advances at scheduler ticks and context switches (4 ms steps here), so a sub-millisecond client step read as 0
 * or 4 ms and the slowest of 1,000 clients was biased up by a tick per stage.
 */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
