import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ClientHeap, HostReply, HostRequest, HostSetup } from './client-host.js';
import { setHeapGrowingPercent } from '@fedrec/coordinator/heap-growth.js';
import { fullGc, settle } from './full-gc.js';

const HOST_URL = new URL('./client-host.ts', import.meta.url);

/** Starts the host from its TypeScript source: worker threads do not inherit tsx's loader (Node 20), so register it. */
function startHost(setup: HostSetup): Worker {
  if (!HOST_URL.pathname.endsWith('.ts')) return new Worker(HOST_URL, { workerData: setup });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(HOST_URL.href)}); });`;
  return new Worker(boot, { eval: true, workerData: setup });
}

/**
 * The simulated population in worker threads (one by default). Every call is lockstep: each host in turn gets one
 * batch, the pool waits for its answer, then hands the replies over. So client steps (on a host) and coordinator
 * steps (main thread) never run at the same time, and process CPU time charges each step to its own side
 * (cpu-clock.ts); while the main thread times the coordinator's work on a batch no reply is being received (and
 * deserialized) on it. Several hosts (--hosts) never run at once either, for the same reason: they split the
 * population so each heap holds fewer clients, because a collection of a host's heap is charged to whichever of
 * its clients is running, and a device's heap holds one client, not 1,000.
 */
export class ClientPool {
  private readonly hosts: Worker[];
  private untilQuiet = false;
  /** Host calls under way (client turns), for the GC setting. */
  private hostsWorking = 0;
  private readonly pending = new Map<Worker, { resolve: (r: HostReply[]) => void; reject: (e: Error) => void }>();

  /**
   * `hostOldSpaceMb` (--host-old-space): the hosts' initial old-generation limit in MB, 0 for V8's default. Why: one
   * host heap takes the allocations of every simulated client back to back, and at V8's default limit it mark-compacts
   * about every second masked-input step (README "Above the floor"), a cost that comes from simulating many clients in
   * one heap and lands on whichever step runs. Set through V8's flag before the hosts start, so it reaches only
   * isolates created from here on (the hosts), not the coordinator's heap, which is already configured.
   *
   * `coordinatorHeapGrowingPercent`: V8's old-generation growing factor on the coordinator's turns, as the service
   * sets it for its process (coordinator/heap-growth.ts, CLI `--heap-growing-percent`, default 300); the hosts' turns
   * run under V8's own dynamic factor (0), as a device's heap does. The flag is one for the whole process and V8 reads
   * it when a collection recomputes a heap's limit, so it is switched at every turn: the sides never run at once.
   */
  constructor(
    setup: HostSetup,
    hostCount = 1,
    hostOldSpaceMb = 0,
    private readonly coordinatorHeapGrowingPercent = 0,
  ) {
    if (!Number.isInteger(hostCount) || hostCount < 1) throw new RangeError(`hosts must be a positive integer, got ${hostCount}`);
    if (!Number.isInteger(hostOldSpaceMb) || hostOldSpaceMb < 0) throw new RangeError(`host old space must be a whole number of MB, got ${hostOldSpaceMb}`);
    if (hostOldSpaceMb > 0) setFlagsFromString(`--initial-old-space-size=${hostOldSpaceMb}`);
    this.hosts = Array.from({ length: hostCount }, () => startHost(setup));
    setHeapGrowingPercent(coordinatorHeapGrowingPercent);
    for (const host of this.hosts) {
      host.on('message', (m: { ok: true; replies: HostReply[] } | { ok: false; error: string }) => {
        const p = this.pending.get(host)!;
        this.pending.delete(host);
        if (m.ok) p.resolve(m.replies);
        else p.reject(new Error(`client host: ${m.error}`));
      });
      host.on('error', (err) => {
        const p = this.pending.get(host);
        this.pending.delete(host);
        p?.reject(err);
      });
    }
  }

  hostOf(index: number): number {
    return index % this.hosts.length;
  }

  private async call(host: Worker, req: HostRequest): Promise<HostReply[]> {
    // The hosts' setting while any host works (broadcast and collectGarbage call every host at once), the
    // coordinator's once none does.
    if (this.hostsWorking++ === 0) setHeapGrowingPercent(0);
    try {
      return await new Promise<HostReply[]>((resolve, reject) => {
        this.pending.set(host, { resolve, reject });
        host.postMessage(req);
      });
    } finally {
      if (--this.hostsWorking === 0) setHeapGrowingPercent(this.coordinatorHeapGrowingPercent);
    }
  }

  /**
   * Runs `makeRequest` over the items in batches of `batch` per host; `onReplies` gets each lockstep step's
   * replies (in index order within a host) before the next step is sent.
   */
  async run<T extends { index: number }>(
    items: T[],
    makeRequest: (batch: T[]) => HostRequest,
    onReplies: (replies: HostReply[]) => Promise<void> | void,
    batch = 32,
  ): Promise<void> {
    const perHost = this.hosts.map(() => [] as T[]);
    for (const item of items) perHost[this.hostOf(item.index)]!.push(item);
    items.length = 0; // the caller's array: sent items should not stay reachable from it
    while (perHost.some((xs) => xs.length > 0)) {
      const steps: HostReply[][] = [];
      for (const [h, host] of this.hosts.entries()) {
        // Taken out as sent (splice), so this heap holds no sent message while the coordinator works.
        const slice = perHost[h]!.splice(0, batch);
        if (slice.length === 0) continue;
        steps.push(await this.call(host, makeRequest(slice)));
        await settle(this.untilQuiet);
      }
      for (const replies of steps) await onReplies(replies);
      await settle(this.untilQuiet);
    }
  }

  /** Sends one request to every host with the indices it holds. */
  async broadcast(indices: number[], makeRequest: (mine: number[]) => HostRequest): Promise<void> {
    await Promise.all(
      this.hosts.map((host, h) => {
        const mine = indices.filter((i) => this.hostOf(i) === h);
        return this.call(host, makeRequest(mine));
      }),
    );
  }

  /** A full collection of the host's heap and then of this one (untimed, before a measured round: full-gc.ts). */
  async collectGarbage(): Promise<void> {
    await Promise.all(this.hosts.map((host) => this.call(host, { op: 'gc' })));
    fullGc();
    await settle(this.untilQuiet);
  }

  /** How the hosts charge client steps for collections from now on (client-host.ts, ClientHeap). */
  async chargeCollections(heap: ClientHeap): Promise<void> {
    // The new accounting also idles until the process is quiet between turns (full-gc.ts, settle); the old one 15 ms.
    this.untilQuiet = heap === 'own';
    await Promise.all(this.hosts.map((host) => this.call(host, { op: 'client-heap', heap })));
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.terminate()));
  }
}
