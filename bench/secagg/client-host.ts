/**
 * A worker thread hosting the simulated clients, each client's step timed on its own. Why a separate heap: with the
 * whole population in the main thread's heap, garbage collection of 1,000 clients' state landed on whichever step
 * was running (coordinator or client), and the per-stage figures mostly measured those pauses. Requests come one at
 * a time and the coordinator waits for the answer (client-pool.ts), so while a client step runs nothing else in
 * the process does: process CPU time (cpu-clock.ts) is this client's work plus the collection of this heap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeUpdatePayload, EnvelopeSealer, type EnvelopeBinding, type SealedEnvelope, type SecAggConfig } from '@fedrec/protocol';
import {
  forwardedSharesSchema,
  rosterSchema,
  unmaskRequestSchema,
  type ForwardedShares,
  type Roster,
  type UnmaskRequest,
} from '@fedrec/protocol/secagg-messages.js';
import type { WeightManifest } from '@fedrec/protocol/weights.js';
import { contributionLayout, encodeContribution, expandMaskJob, prepareContribution, runShareJob, SecAggClient, useWordSumKernel } from '@fedrec/secagg';
import { clientContribution, clientId } from './population.js';
import { processCpuMs } from './cpu-clock.js';
import { fullGc, minorGc } from './full-gc.js';

export interface HostSetup {
  seed: number;
  params: number;
  manifest: WeightManifest;
  /**
   * --trace-steps: print every batch's client steps in order, CPU ms as charged and wall ms beside them, to stderr.
   * Why: the slowest client of a stage is one step of n; the trace shows where in a stage it falls (the first steps
   * of a stage, or a run of steps in the middle) and whether wall time moved with it.
   */
  traceSteps?: boolean;
}

/**
 * How a client step is charged for garbage collection (--client-heap).
 * - 'shared' (the old accounting): a step pays whatever collection of this host's heap falls inside it. The heap holds
 *   every simulated client's state and garbage, so the step that crosses a collection trigger pays for collecting
 *   the garbage of the clients before it (node:crypto's keystream buffers start a scavenge every ~32 MB of them,
 *   about one per receiveShares at k = 66) and for marking all clients' live state in a mark-compact; which client
 *   pays is chance, and the slowest of 1,000 is the one that paid most.
 * - 'own': as on a device whose heap holds only its own client. Each timed step starts from a young generation
 *   emptied of other clients' garbage (an untimed young-generation collection) and is timed with any collection its
 *   own allocation starts plus a young-generation collection of what it left (minorGc): it pays for collecting its
 *   own garbage, as a device does, and not for the others'. Between turns both sides idle until the process is quiet
 *   (client-pool.ts, full-gc.ts settle). Why this is not kinder than a device: all a step leaves out is work on other
 *   clients' garbage, which no device does for it; its own allocation is collected inside the step. What it may leave
 *   out that a device pays: collections of the app's and training's own garbage that fall in the step (the same in
 *   plain and secure rounds), and a device's smaller young generation (V8 sizes it by the heap's allocation rate). What
 *   it does not take out: a mark-compact, which marks every simulated client's live state, can still start inside a
 *   step. An untimed full collection before each batch of 32 steps was tried and dropped: it made the steps after it
 *   dearer, not cheaper (one 100-client round, 13:40 UTC, load 3.5: receiveShares 13-55 ms, mostly 19-27, with it;
 *   12-27 ms, mostly 12-13, without).
 * Per step that is two young-generation collections (0.3-1 ms each, one of them timed).
 */
export type ClientHeap = 'shared' | 'own';

/** One request: an operation on a batch of this host's clients (by population index). */
export type HostRequest =
  | { op: 'plain-connect'; indices: number[]; coordinatorPublicKey: Uint8Array }
  | { op: 'plain-seal'; indices: number[]; roundId: number }
  | { op: 'secagg-start'; indices: number[]; roundId: number; config: SecAggConfig; validate: boolean; wordSumKernel: boolean }
  | { op: 'advertise'; indices: number[] }
  | { op: 'share-keys'; items: Array<{ index: number; roster: Roster }> }
  | { op: 'masked-input'; items: Array<{ index: number; forwarded: ForwardedShares }> }
  | { op: 'unmask'; items: Array<{ index: number; request: UnmaskRequest }> }
  | { op: 'gc' }
  | { op: 'client-heap'; heap: ClientHeap }
  | { op: 'reset' };

/** Per client: what it sent and the CPU ms it spent. */
export interface HostReply {
  index: number;
  ms: number;
  /**
   * Of `ms`, the part the SDK runs on the device's mask worker, off the main thread the device trains on (share keys:
   * the share job, k agreements, two Shamir splits and k seals; masked input: the mask job, k agreements and k + 1
   * expansions). It overlaps training wherever a second core is free.
   */
  offMainMs?: number;
  /** Of `ms`, the part that needs the training result (masked input: quantizing and masking it). */
  inputMs?: number;
  sent: unknown;
}

const setup = workerData as HostSetup;
const clock = processCpuMs;
const sealers = new Map<number, EnvelopeSealer>();
const clients = new Map<number, SecAggClient>();
let config: SecAggConfig | null = null;
let validate = false;
let clientHeap: ClientHeap = 'shared';
const layout = contributionLayout(setup.manifest);
/** One delta buffer for every client's turn (see clientContribution). */
const scratch = new Float32Array(setup.params);
const check = <T>(schema: { parse(v: unknown): T }, value: T): T => (validate ? schema.parse(value) : value);

/** One client step in process CPU time, charged for collections as `clientHeap` says. */
async function step<T>(f: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  if (clientHeap === 'own') minorGc();
  const t = clock();
  const wall = setup.traceSteps ? performance.now() : 0;
  const value = await f();
  if (clientHeap === 'own') minorGc();
  const ms = clock() - t;
  if (setup.traceSteps) traced.push(`${ms.toFixed(1)}/${(performance.now() - wall).toFixed(1)}`);
  return { ms, value };
}

/**
 * A job runner for a SecAggClient `…With` call that runs the job in place, on this thread, and keeps its time on the
 * step's clock: the part of the step the SDK hands to the device's mask worker.
 */
function offMain<J, R>(f: (job: J) => R | Promise<R>): { run: (job: J) => Promise<R>; ms: () => number } {
  let ms = 0;
  return {
    run: async (job) => {
      const t = clock();
      const result = await f(job);
      ms = clock() - t;
      return result;
    },
    ms: () => ms,
  };
}

/** This batch's steps for --trace-steps ("cpu/wall" ms; a masked-input client is two steps: receiveShares, maskInput). */
const traced: string[] = [];

async function handle(req: HostRequest): Promise<{ replies: HostReply[]; transfer: ArrayBuffer[] }> {
  const replies: HostReply[] = [];
  const transfer: ArrayBuffer[] = [];
  const timed = async (index: number, f: () => unknown) => {
    const { ms, value: sent } = await step(f);
    replies.push({ index, ms, sent });
  };
  switch (req.op) {
    case 'plain-connect':
      // A session's steady state: the sealer has agreed its key with the coordinator (once per connection).
      for (const i of req.indices) {
        const sealer = new EnvelopeSealer(req.coordinatorPublicKey);
        const binding: EnvelopeBinding = { roundId: 0, clientId: clientId(i), taskId: 't0', modelVersion: 0 };
        sealers.set(i, sealer);
        replies.push({ index: i, ms: 0, sent: { envelope: await sealer.seal(new Uint8Array(1), binding), binding } });
      }
      break;
    case 'plain-seal':
      for (const i of req.indices) {
        const c = clientContribution(setup.seed, i, setup.params, scratch);
        const binding: EnvelopeBinding = { roundId: req.roundId, clientId: clientId(i), taskId: `t${req.roundId}`, modelVersion: req.roundId };
        await timed(i, () => sealers.get(i)!.seal(encodeUpdatePayload({ numExamples: c.numExamples, metrics: { loss: 0.5 }, delta: c.delta }), binding));
        transfer.push((replies.at(-1)!.sent as SealedEnvelope).ciphertext.buffer as ArrayBuffer);
      }
      break;
    case 'secagg-start':
      config = req.config;
      validate = req.validate;
      useWordSumKernel(req.wordSumKernel);
      clients.clear();
      for (const i of req.indices) clients.set(i, new SecAggClient({ clientId: clientId(i), roundId: req.roundId, config, vectorLength: layout.vectorLength }));
      break;
    case 'advertise':
      for (const i of req.indices) await timed(i, () => clients.get(i)!.advertiseKeys());
      break;
    case 'share-keys':
      for (const { index, roster } of req.items) {
        // As the SDK runs it with a mask worker (createNodeClient, createBrowserClient): the roster checks on the main
        // thread, the share job (agreements, Shamir splits, seals) on the worker. The same split here: offMainMs.
        const job = offMain(runShareJob);
        const { ms, value: sent } = await step(() => clients.get(index)!.shareKeysWith(check(rosterSchema, roster), job.run));
        replies.push({ index, ms, offMainMs: job.ms(), sent });
      }
      break;
    case 'masked-input':
      for (const { index, forwarded } of req.items) {
        const client = clients.get(index)!;
        // receiveShares needs no input: the SDK runs it as soon as the forwarded shares arrive, while the device
        // trains, opening the shares on the main thread and handing the mask job (agreements, expansions) to its mask
        // worker (client-sdk/secagg-participant.ts). The same split here, the job timed apart: offMainMs. The SDK also
        // readies the quantizer then (prepareContribution: free once the thread has quantized a vector of the size).
        const job = offMain(expandMaskJob);
        const { ms: receiveMs } = await step(() => {
          prepareContribution(layout);
          return client.receiveSharesWith(check(forwardedSharesSchema, forwarded), job.run);
        });
        // Generating the training result is not client work the protocol adds; quantizing and masking it are.
        const c = clientContribution(setup.seed, index, setup.params, scratch);
        const { ms: inputMs, value: sent } = await step(() => client.maskInput(encodeContribution(c, layout, config!)));
        replies.push({ index, ms: receiveMs + inputMs, offMainMs: job.ms(), inputMs, sent });
        transfer.push(sent.masked.buffer as ArrayBuffer);
      }
      break;
    case 'unmask':
      for (const { index, request } of req.items) {
        await timed(index, () => clients.get(index)!.unmask(check(unmaskRequestSchema, request)));
        const correction = (replies.at(-1)!.sent as { correction?: Uint8Array }).correction;
        if (correction) transfer.push(correction.buffer as ArrayBuffer);
        clients.delete(index);
      }
      break;
    case 'gc':
      fullGc();
      break;
    case 'client-heap':
      clientHeap = req.heap;
      break;
    case 'reset':
      sealers.clear();
      clients.clear();
      break;
  }
  if (traced.length > 0) console.error(`steps ${req.op} (cpu/wall ms): ${traced.splice(0).join(' ')}`);
  return { replies, transfer };
}

parentPort!.on('message', (req: HostRequest) => {
  handle(req).then(
    ({ replies, transfer }) => parentPort!.postMessage({ ok: true, replies }, transfer),
    (err: unknown) => parentPort!.postMessage({ ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
});
