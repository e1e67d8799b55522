/**
 * Plain and secure-aggregation rounds with the clients in worker threads (client-host.ts) and the coordinator in
 * the main thread, taking turns, each step timed in process CPU time (cpu-clock.ts). The stage sequence is
 * runInMemoryRound's (secagg/in-memory-round.ts); the coordinator validates every message as the collector does
 * (zod schemas, hand checks for ShareKeys and UnmaskResponse), the packing left out as in every harness here.
 */
import { EnvelopeOpener, generateKeyPair, type EnvelopeBinding, type SealedEnvelope, type SecAggConfig } from '@fedrec/protocol';
import { advertiseKeysSchema, maskedInputSchema, type AdvertiseKeys, type MaskedInput } from '@fedrec/protocol/secagg-messages.js';
import { checkShareKeys, checkUnmaskResponse } from '@fedrec/protocol/secagg-message-checks.js';
import type { WeightManifest } from '@fedrec/protocol/weights.js';
import { contributionLayout, decodeAggregate, SecAggServer, useWordSumKernel, type SecAggAbandoned } from '@fedrec/secagg';
import { coordinatorOptionsSchema } from '@fedrec/coordinator/options.js';
import type { UpdateLimits } from '@fedrec/coordinator/fit-collector.js';
import { RoundInput } from '@fedrec/coordinator/strategy/round-input.js';
import { UpdatePolicy } from '@fedrec/coordinator/strategy/update-policy.js';
import { openValidatedUpdate } from '@fedrec/coordinator/update-validation.js';
import { averageDelta } from '@fedrec/coordinator/strategy/fedavg-math.js';
import type { ClientPool } from './client-pool.js';
import type { HostReply } from './client-host.js';
import { clientId, expectedMean } from './population.js';
import { criticalPath, maxDiff, mean, median, packedBytes, wireBytes, type RoundFigures } from './round-figures.js';

export interface WorkerRoundContext {
  pool: ClientPool;
  seed: number;
  params: number;
  manifest: WeightManifest;
  /** The main thread's CPU clock (ms). */
  clock: () => number;
  /** Population indices taking part. */
  indices: number[];
  /** Indices that go silent after share keys (plain: they send no update). */
  dropped: ReadonlySet<number>;
  /** Whether both sides sum masks on the WebAssembly kernel (secagg/word-sum.ts) or in JavaScript (--sums). */
  wordSumKernel: boolean;
}

let nextRound = 1;

/*
 * Plain's coordinator runs the service's per-update path with the service's defaults (coordinator/options.ts): the
 * update limits, and the update policy (adaptive norm bound and weight cap), one policy for the process as the
 * coordinator keeps one across rounds. Until 1 December 2026 (evening) the bench opened, decoded and summed only; the
 * validation and the policy alone measured within the noise of that (plain's coordinator 40.5 and 43.9 ms against 43.1
 * and 44.8 ms, 100 clients, alternated, 16:09 UTC). What did move plain's figure was the heap's history: bench/secagg.ts
 * PLAIN_FIRST.
 */
const shippedOptions = coordinatorOptionsSchema.shape;
const SHIPPED_LIMITS: UpdateLimits = {
  maxUpdateBytes: shippedOptions.maxUpdateBytes.parse(undefined),
  maxExamplesPerUpdate: shippedOptions.maxExamplesPerUpdate.parse(undefined),
  maxMetricKeys: shippedOptions.maxMetricKeys.parse(undefined),
  compression: shippedOptions.compression.parse(undefined),
};
const shippedPolicy = new UpdatePolicy(shippedOptions.updatePolicy.parse(undefined));

/*
 * BATCH_CLOCK: the coordinator's steps are timed per batch of replies (one pair of clock readings around all of a
 * batch's accepts), not per message. Its figure is a per-stage sum anyway, and a clock reading (getrusage over
 * every thread of the process) cost ~0.1 ms on this loaded machine, about half of it inside the interval: per
 * message that was ~0.2 ms a client a round added to the coordinator (a CPU profile of a 1,000-client round: 0.84 s
 * in cpuUsage on the main thread). Clients are still timed one by one (their slowest matters); their steps are
 * milliseconds, so the reading's share there is small.
 */

/**
 * Feeds a batch's replies to the coordinator in order, dropping each reply's payload as soon as it is accepted. Why:
 * the collector (coordinator/secagg-fit-collector.ts, through dispatchPhase) handles each socket message in its own
 * callback and keeps nothing of it afterwards, so a received 400 KB masked input or correction is garbage once it is
 * in the sum; held here to the end of a batch of 32 (25 MB of corrections at 30% dropout), they stayed reachable
 * across the collections the batch's own work starts, which the deployed coordinator does not pay.
 */
function acceptEach(replies: HostReply[], accept: (r: HostReply) => void): void {
  for (const r of replies) {
    accept(r);
    r.sent = undefined;
  }
}

/** Sealed FedAvg: each client encodes and seals its update (worker); the coordinator opens, decodes, accumulates, averages. */
export async function plainRoundInWorkers(ctx: WorkerRoundContext): Promise<RoundFigures> {
  const { pool, clock, indices, dropped, manifest } = ctx;
  const roundId = nextRound++;
  const coordinator = generateKeyPair();
  const opener = new EnvelopeOpener(coordinator.secretKey);
  // Untimed: the session's key agreement, done once per connection in a deployment.
  await pool.run(
    indices.map((index) => ({ index })),
    (b) => ({ op: 'plain-connect', indices: b.map((x) => x.index), coordinatorPublicKey: coordinator.publicKey }),
    async (replies) => {
      for (const r of replies) {
        const { envelope, binding } = r.sent as { envelope: SealedEnvelope; binding: EnvelopeBinding };
        await opener.open(envelope, binding);
      }
    },
  );
  await pool.collectGarbage();
  const t0 = performance.now();
  const clientMs: number[] = [];
  const uploads: number[] = [];
  let serverMs = 0;
  const input = new RoundInput(manifest, shippedPolicy, false);
  const survivors = indices.filter((i) => !dropped.has(i));
  await pool.run(
    survivors.map((index) => ({ index })),
    (b) => ({ op: 'plain-seal', indices: b.map((x) => x.index), roundId }),
    async (replies) => {
      // Bookkeeping first, then the coordinator's work on the whole batch between two clock readings (see BATCH_CLOCK).
      const work: Array<{ envelope: SealedEnvelope; binding: EnvelopeBinding } | null> = replies.map((r) => {
        clientMs.push(r.ms);
        uploads.push(wireBytes({ envelope: r.sent }));
        const binding: EnvelopeBinding = { roundId, clientId: clientId(r.index), taskId: `t${roundId}`, modelVersion: roundId };
        const envelope = r.sent as SealedEnvelope;
        r.sent = undefined;
        return { envelope, binding };
      });
      const t = clock();
      for (const [i, item] of work.entries()) {
        // As PlainFitCollector takes an update on the main thread (updateWorkers 0): size, open, padding, decode and
        // validation (its L2 norm), then the update policy's bounds into the round's sums. The update pool's workers
        // run the same per-update code (update-pool/update-shard.ts).
        const payload = await openValidatedUpdate(item!.envelope, item!.binding, opener, manifest, SHIPPED_LIMITS);
        input.add(item!.binding.clientId, { numExamples: payload.numExamples, delta: payload.delta, rowWeights: payload.rowWeights }, payload.norm);
        work[i] = null; // as acceptEach: the collector keeps no update once it is in the sum
      }
      serverMs += clock() - t;
    },
  );
  const t = clock();
  const result = averageDelta(manifest, input.finish().sums);
  serverMs += clock() - t;
  const totalMs = performance.now() - t0;
  const stages = { 'seal / open': { clientMaxMs: Math.max(...clientMs), serverMs } };
  return {
    criticalMs: criticalPath(stages),
    stages,
    totalMs,
    serverMs,
    clientMedianMs: median(clientMs),
    clientMaxMs: Math.max(...clientMs),
    uploadBytes: mean(uploads),
    downloadBytes: 0,
    maxError: maxDiff(result, expectedMean(ctx.seed, survivors, ctx.params)),
  };
}

/** One SecAgg / SecAgg+ round, stage by stage, clients in the pool, the SecAggServer here. */
export async function secaggRoundInWorkers(ctx: WorkerRoundContext, config: SecAggConfig): Promise<RoundFigures> {
  const { pool, clock, indices, dropped, manifest } = ctx;
  const roundId = nextRound++;
  const layout = contributionLayout(manifest);
  useWordSumKernel(ctx.wordSumKernel);
  const server = new SecAggServer({ roundId, config, vectorLength: layout.vectorLength });
  const stageClient = new Map<string, Map<number, number>>();
  /** Per client, CPU ms on the device's main thread (what its training waits for) in the stages before unmask. */
  const mainThread = new Map<number, number>();
  /** Per client, its masked-input work that needs no input (receiveShares: opening the shares, the mask job). */
  const beforeInput = new Map<number, number>();
  const stageServer = new Map<string, number>();
  const clientTotal = new Map<number, number>();
  const up = new Map<number, number>();
  const down = new Map<number, number>();
  const addTo = <K>(m: Map<K, number>, k: K, x: number) => m.set(k, (m.get(k) ?? 0) + x);
  const clientStep = (stage: string, r: HostReply) => {
    if (!stageClient.has(stage)) stageClient.set(stage, new Map());
    addTo(stageClient.get(stage)!, r.index, r.ms);
    addTo(clientTotal, r.index, r.ms);
    if (stage !== 'unmask') addTo(mainThread, r.index, r.ms - (r.offMainMs ?? 0));
    addTo(up, r.index, packedBytes(r.sent));
  };
  /**
   * A stage's messages as pool items, their bytes counted now, and the server's map emptied: the items leave this
   * heap batch by batch as they are sent, so the coordinator's later steps do not collect what the bench held.
   */
  const itemsOf = <M, K extends string>(messages: Map<string, M>, key: K, keep: (index: number) => boolean = () => true) => {
    const items: Array<{ index: number } & Record<K, M>> = [];
    for (const [id, m] of messages) {
      const index = byId.get(id)!;
      if (!keep(index)) continue;
      addTo(down, index, packedBytes(m));
      items.push({ index, [key]: m } as { index: number } & Record<K, M>);
    }
    messages.clear();
    return items;
  };
  const serverTimed = <T>(stage: string, f: () => T): T => {
    const t = clock();
    const v = f();
    addTo(stageServer, stage, clock() - t);
    return v;
  };
  const abandoned = (a: SecAggAbandoned): RoundFigures => ({
    abandoned: a.reason,
    criticalMs: 0,
    stages: {},
    totalMs: performance.now() - t0,
    serverMs: [...stageServer.values()].reduce((x, y) => x + y, 0),
    clientMedianMs: 0,
    clientMaxMs: 0,
    uploadBytes: 0,
    downloadBytes: 0,
    maxError: Number.NaN,
  });
  const byId = new Map(indices.map((i) => [clientId(i), i]));
  await pool.broadcast(indices, (mine) => ({ op: 'secagg-start', indices: mine, roundId, config, validate: true, wordSumKernel: ctx.wordSumKernel }));
  await pool.collectGarbage();
  const t0 = performance.now();

  await pool.run(
    indices.map((index) => ({ index })),
    (b) => ({ op: 'advertise', indices: b.map((x) => x.index) }),
    (replies) => {
      for (const r of replies) {
        clientStep('advertise', r);
      }
      serverTimed('advertise', () => {
        acceptEach(replies, (r) => server.acceptAdvertisement(clientId(r.index), advertiseKeysSchema.parse(r.sent as AdvertiseKeys)));
      });
    },
  );
  const rosters = serverTimed('advertise', () => server.closeAdvertisement());
  if (rosters.status === 'abandoned') return abandoned(rosters);

  await pool.run(
    itemsOf(rosters.messages, 'roster'),
    (b) => ({ op: 'share-keys', items: b }),
    (replies) => {
      for (const r of replies) {
        clientStep('share-keys', r);
      }
      serverTimed('share-keys', () => {
        acceptEach(replies, (r) => server.acceptShareKeys(clientId(r.index), checkShareKeys(r.sent)));
      });
    },
  );
  const forwarded = serverTimed('share-keys', () => server.closeShareKeys());
  if (forwarded.status === 'abandoned') return abandoned(forwarded);

  await pool.run(
    itemsOf(forwarded.messages, 'forwarded', (index) => !dropped.has(index)),
    (b) => ({ op: 'masked-input', items: b }),
    (replies) => {
      for (const r of replies) {
        clientStep('masked-input', r);
        beforeInput.set(r.index, r.ms - (r.inputMs ?? 0));
      }
      serverTimed('masked-input', () => {
        acceptEach(replies, (r) => server.acceptMaskedInput(clientId(r.index), maskedInputSchema.parse(r.sent as MaskedInput)));
      });
    },
  );
  const requests = serverTimed('masked-input', () => server.closeMaskedInput());
  if (requests.status === 'abandoned') return abandoned(requests);

  await pool.run(
    itemsOf(requests.messages, 'request'),
    (b) => ({ op: 'unmask', items: b }),
    (replies) => {
      for (const r of replies) {
        clientStep('unmask', r);
      }
      serverTimed('unmask', () => {
        acceptEach(replies, (r) => server.acceptUnmaskResponse(clientId(r.index), checkUnmaskResponse(r.sent)));
      });
    },
  );
  let t = clock();
  const outcome = await server.finish();
  addTo(stageServer, 'unmask', clock() - t);
  if (outcome.status !== 'completed') return abandoned(outcome);
  t = clock();
  const result = averageDelta(manifest, decodeAggregate(outcome.sum, outcome.contributors.length, layout, config));
  addTo(stageServer, 'unmask', clock() - t);
  const totalMs = performance.now() - t0;

  const survivors = indices.filter((i) => !dropped.has(i));
  const stages: RoundFigures['stages'] = {};
  for (const stage of ['advertise', 'share-keys', 'masked-input', 'unmask']) {
    const perClient = [...(stageClient.get(stage)?.values() ?? [])];
    stages[stage] = {
      clientMaxMs: perClient.length ? Math.max(...perClient) : 0,
      clientMedianMs: perClient.length ? median(perClient) : 0,
      serverMs: stageServer.get(stage) ?? 0,
    };
  }
  const times = survivors.map((i) => clientTotal.get(i)!);
  const stageMs = (stage: string) => stages[stage]!.clientMaxMs + stages[stage]!.serverMs;
  return {
    criticalMs: criticalPath(stages),
    // SCHEDULED: the device trains from stage 0 on, on its main thread, so only its main-thread work delays the
    // input; the coordinator's first two stages and the mask worker's jobs run meanwhile.
    scheduled: {
      ms: Math.max(0, ...mainThread.values()) + stages['masked-input']!.serverMs + stageMs('unmask'),
      trainingAtLeastMs: stageMs('advertise') + stageMs('share-keys') + Math.max(0, ...beforeInput.values()),
    },
    stages,
    totalMs,
    serverMs: [...stageServer.values()].reduce((x, y) => x + y, 0),
    clientMedianMs: median(times),
    clientMaxMs: Math.max(...times),
    uploadBytes: mean(survivors.map((i) => up.get(i)!)),
    downloadBytes: mean(survivors.map((i) => down.get(i)!)),
    maxError: maxDiff(result, expectedMean(ctx.seed, survivors, ctx.params)),
  };
}
