// CPU time per thread of this process, read from /proc/self/task/*/stat (Linux), so a round's CPU can be
// split between the event loop (the main thread), the update workers and the rest (V8's GC and compiler
// helpers, libuv's pool). process.cpuUsage() only gives the sum. All threads are named "node", so the
// caller tells them apart: the main thread's id is the process id, and threads that appear after a
// snapshot taken before the pool starts are the update workers.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK))

/** One thread's counters: CPU ms (user + system) and minor page faults. */
export interface ThreadCounters {
  ms: number;
  faults: number;
}

/** Counters per thread id; empty where /proc is missing. */
export function threadCpuMs(): Map<number, ThreadCounters> {
  const out = new Map<number, ThreadCounters>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised name: state is field 3, minflt 10, utime 14, stime 15 (1-based).
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { ms: ((Number(rest[11]) + Number(rest[12])) * 1000) / TICKS_PER_SECOND, faults: Number(rest[7]) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU ms (user + system, all threads) of another process, e.g. a device fleet; 0 once it is gone or without /proc. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** One round's CPU ms (and minor page faults) split by thread group, from two snapshots. */
export interface ThreadSplit {
  main: number;
  /** Threads absent from the `known` snapshot (started later: the update workers). */
  late: number;
  /** Everything else (V8 platform threads: GC, compiler; libuv's pool). */
  other: number;
  faults: { main: number; late: number; other: number };
}

export function splitThreads(before: Map<number, ThreadCounters>, after: Map<number, ThreadCounters>, known: ReadonlySet<number>): ThreadSplit {
  const split: ThreadSplit = { main: 0, late: 0, other: 0, faults: { main: 0, late: 0, other: 0 } };
  for (const [tid, c] of after) {
    const group = tid === process.pid ? 'main' : known.has(tid) ? 'other' : 'late';
    split[group] += c.ms - (before.get(tid)?.ms ?? 0);
    split.faults[group] += c.faults - (before.get(tid)?.faults ?? 0);
  }
  return split;
}
