import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  emptySums,
  mergeAggregateSums,
  ProtocolError,
  type AggregateSums,
  type EnvelopeBinding,
  type ErrorCode,
  type EvaluateMetrics,
  type SealedEnvelope,
  type WeightManifest,
} from '@fedrec/protocol';
import type { UpdateLimits } from '../fit-collector.js';
import { addToTally, emptyTally, type BoundsTally, type DenseUpdate, type UpdateBounds } from '../strategy/update-policy.js';
import { InFlightGate } from './in-flight-gate.js';
import type { EvaluateRequest, FromWorker, OpenRequest, SealedParts, ToWorker } from './messages.js';

/** Default pool size: every core but one (the event loop's), at least one worker. */
export function defaultUpdateWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

export interface UpdatePoolOptions {
  /** Worker threads (>= 1). */
  size: number;
  /** The coordinator's X25519 secret key: each worker opens envelopes and caches its senders' session keys. */
  secretKey: Uint8Array;
  /** Most updates in flight (received, not yet in the sums) over the whole pool; default 2 per worker. */
  maxInFlight?: number;
}

/** An update a worker opened and validated, waiting for the main thread's decision. */
export interface OpenedUpdate {
  readonly job: number;
  readonly worker: number;
  readonly clientId: string;
  numExamples: number;
  metrics: Record<string, number>;
  /** L2 norm of the delta as received, and the norms of its touched item rows (for the update policy). */
  received: number;
  rowNorms: Float64Array;
}

interface Pending {
  resolve: (m: FromWorker) => void;
  reject: (err: unknown) => void;
}

/** What a round (or a buffered cut) hands over: the merged sums, the updates lost with a crashed worker, the bounds' tally. */
export interface PooledSums {
  sums: AggregateSums;
  lost: Set<string>;
  tally: BoundsTally;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Jobs this worker opened and holds, waiting for apply, take or discard. */
  opened: Set<number>;
  /** Applied jobs (and their clients) whose updates are in this worker's partial sums this round (lost if it crashes). */
  applied: Map<number, string>;
  /** Set when the worker died: it is replaced on the next update routed to it (never in a tight loop). */
  dead: boolean;
}

const WORKER_URL = new URL('./update-worker.ts', import.meta.url);
/**
 * The coordinator runs from TypeScript sources under tsx, whose loader hooks a worker thread does not
 * inherit (Node 20): a TypeScript worker starts from a two-line bootstrap that registers tsx's loader
 * (the same tsx the main thread runs, through its documented API) and then imports the worker module.
 */
function startWorker(workerData: unknown): Worker {
  if (!WORKER_URL.pathname.endsWith('.ts')) return new Worker(WORKER_URL, { workerData });
  // tsx's ESM API entry, from its own exports map (require.resolve would give the CommonJS one).
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('tsx/package.json');
  const pkg = require(pkgFile) as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(pkgFile), pkg.exports['./esm/api']!.import.default)).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * A pool of worker threads that open, decode, validate, bound and accumulate plain-mode updates off the
 * event loop, each into its own partial AggregateSums (sharded accumulators), merged once at the end of a
 * round with mergeAggregateSums. Envelopes go to a worker chosen by sender key, so each session's X25519
 * agreement runs once, in one worker. Ciphertexts are moved (transferred) to the worker, not copied.
 * A bound on updates in flight (InFlightGate) keeps memory O(model × (workers + bound)).
 *
 * A worker that dies fails its updates in flight and its round's partial sums with UPDATE_WORKER_FAILED,
 * and is replaced at once; the round goes on with the others.
 */
export class UpdatePool {
  readonly size: number;
  readonly gate: InFlightGate;
  private readonly slots: Slot[] = [];
  private nextJob = 1;
  private round: { id: number; manifest: WeightManifest; limits: UpdateLimits; lost: Set<string> } | undefined;
  private closed = false;
  /** Worker crashes since the pool started. */
  crashes = 0;
  /** Envelopes handed to the workers to open (each update once, whatever its verdict): tests assert on it. */
  envelopes = 0;
  /** Evaluate results handed to the workers to open (each once, whatever its verdict). */
  evaluations = 0;

  constructor(private readonly options: UpdatePoolOptions) {
    if (!(Number.isInteger(options.size) && options.size >= 1)) throw new RangeError(`update pool size must be an integer >= 1, got ${options.size}`);
    this.size = options.size;
    this.gate = new InFlightGate(options.maxInFlight ?? 2 * options.size);
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn(i));
  }

  /** Starts a round on every worker. One round at a time: the engine serialises rounds. */
  beginRound(id: number, manifest: WeightManifest, limits: UpdateLimits): void {
    this.round = { id, manifest, limits, lost: new Set() };
    for (const s of this.slots) {
      s.applied = new Map();
      this.post(s, { type: 'begin', round: id, manifest, limits });
    }
  }

  /**
   * Waits for a slot (back-pressure), then has a worker open and validate the envelope. Rejects with the
   * ProtocolError of the validation (the slot is freed); on success the caller must apply(), take() or
   * discard() the update, which frees the slot.
   */
  async open(clientId: string, envelope: SealedEnvelope, binding: EnvelopeBinding): Promise<OpenedUpdate> {
    const round = this.requireRound();
    await this.gate.acquire();
    const worker = this.workerFor(envelope.senderPublicKey);
    const job = this.nextJob++;
    this.envelopes += 1;
    try {
      const slot = this.slots[worker]!;
      const m = await this.request(worker, job, sealedMessage(envelope, { type: 'open', round: round.id, job, binding }));
      if (m.type !== 'opened') throw new Error(`update worker answered ${m.type} to open`);
      slot.opened.add(job);
      return { job, worker, clientId, numExamples: m.numExamples, metrics: m.metrics, received: m.received, rowNorms: m.rowNorms };
    } catch (err) {
      this.gate.release();
      throw err;
    }
  }

  /**
   * Opens and checks a sealed evaluate result (evaluation-opening.ts's openEvaluation) in the worker of its
   * sender key, which holds that session's agreed key from its fit. Rejects with the ProtocolError that says why
   * it may not count. Needs no round and takes no in-flight slot: the result is a few metrics, never a model
   * (protocol/evaluate-reply.ts caps it at 16 KiB before it gets here).
   */
  async openEvaluation(envelope: SealedEnvelope, binding: EnvelopeBinding, maxMetricKeys: number | undefined): Promise<EvaluateMetrics> {
    const worker = this.workerFor(envelope.senderPublicKey);
    const job = this.nextJob++;
    this.evaluations += 1;
    const m = await this.request(worker, job, sealedMessage(envelope, { type: 'evaluate', job, binding, maxMetricKeys }));
    if (m.type !== 'evaluated') throw new Error(`update worker answered ${m.type} to evaluate`);
    return { numExamples: m.numExamples, metrics: m.metrics };
  }

  /**
   * Has the worker apply the policy's bounds and add the update to its partial sums; frees the slot. `scale`
   * (buffered mode's staleness weight) multiplies the delta first. One message, not answered: the update counts
   * as accepted from here, and what the bounds did comes back as the tally with the sums (finishRound, cut). If
   * the worker dies before handing its sums over, or cannot apply the update, the update is named in `lost`.
   * Throws UPDATE_WORKER_FAILED (nothing applied) when the worker that opened the update has already died.
   * The slot is freed at once: the worker adds applied updates before it opens another envelope, so it never
   * holds more decoded updates than the gate let in (plus the applied ones of the messages it is handling).
   * An apply() called before cut() is in the sums that cut hands over, one called after is not.
   */
  apply(u: OpenedUpdate, bounds: UpdateBounds, scale = 1): void {
    try {
      const round = this.requireRound();
      const slot = this.holder(u);
      slot.applied.set(u.job, u.clientId);
      this.post(slot, { type: 'apply', round: round.id, job: u.job, bounds, ...(scale !== 1 ? { scale } : {}) });
    } finally {
      this.gate.release();
    }
  }

  /** Moves the opened update back to the main thread (buffering strategies, a warming-up policy); frees the slot. */
  async take(u: OpenedUpdate): Promise<DenseUpdate> {
    try {
      this.holder(u);
      const m = await this.request(u.worker, u.job, { message: { type: 'take', round: this.requireRound().id, job: u.job } });
      if (m.type !== 'taken') throw new Error(`update worker answered ${m.type} to take`);
      return { numExamples: m.numExamples, delta: m.delta, rowWeights: m.rowWeights };
    } finally {
      this.gate.release();
    }
  }

  /** Forgets an opened update (the round is closing); frees the slot. */
  discard(u: OpenedUpdate): void {
    const round = this.round;
    const slot = this.slots[u.worker]!;
    if (round && slot.opened.delete(u.job)) this.post(slot, { type: 'discard', round: round.id, job: u.job });
    this.gate.release();
  }

  /**
   * Ends the round: every worker hands over its partial sums (moved), merged into one AggregateSums.
   * `lost` names the clients whose accepted updates died with a crashed worker.
   */
  async finishRound(): Promise<PooledSums> {
    const collected = this.collect('finish');
    this.round = undefined;
    return collected;
  }

  /**
   * Buffered mode (buffered/buffered-engine.ts): every worker hands over the partial sums of the updates
   * applied so far and goes on with empty ones in the same round, keeping its opened updates. The requests
   * are posted before this returns, so the sums hold exactly the apply() calls made before it. `lost` names
   * those of them that died with a crashed worker since the previous cut.
   */
  cut(): Promise<PooledSums> {
    return this.collect('cut');
  }

  private async collect(type: 'finish' | 'cut'): Promise<PooledSums> {
    const round = this.requireRound();
    const lost = round.lost;
    round.lost = new Set();
    const total = emptySums(round.manifest);
    const tally = emptyTally();
    const parts = await Promise.all(
      this.slots.map(async (s, i) => {
        if (s.dead) return undefined; // its sums died with it (already in `lost`)
        const applied = s.applied;
        s.applied = new Map();
        try {
          const job = this.nextJob++;
          const m = await this.request(i, job, { message: { type, round: round.id, job } });
          if (m.type !== 'finished') return undefined;
          // Applies the worker could not make: those updates are not in its sums.
          for (const failed of m.failedJobs) {
            const clientId = applied.get(failed);
            if (clientId !== undefined) lost.add(clientId);
          }
          return m;
        } catch {
          for (const c of applied.values()) lost.add(c);
          return undefined;
        }
      }),
    );
    for (const p of parts) {
      if (p?.sums) mergeAggregateSums(total, p.sums);
      if (p) addToTally(tally, p.tally);
    }
    return { sums: total, lost, tally };
  }

  /** Drops the round without collecting its partial sums (the workers discard theirs on the next begin). */
  abandonRound(): void {
    this.round = undefined;
  }

  /** Fault injection for tests and drills: kills one worker as a crash would. */
  async crashWorker(index: number): Promise<void> {
    await this.slots[index]!.worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** The live worker that opened `u`, which stops holding it; UPDATE_WORKER_FAILED when that worker died. */
  private holder(u: OpenedUpdate): Slot {
    const slot = this.slots[u.worker]!;
    if (!slot.opened.delete(u.job)) throw new ProtocolError('UPDATE_WORKER_FAILED', `update worker ${u.worker} died while holding this update`);
    return slot;
  }

  private requireRound(): NonNullable<UpdatePool['round']> {
    if (!this.round) throw new ProtocolError('ROUND_CLOSED', 'no round in progress in the update pool');
    return this.round;
  }

  private spawn(index: number): Slot {
    const worker = startWorker({ secretKey: this.options.secretKey });
    worker.unref(); // an idle pool never keeps the process alive
    const slot: Slot = { worker, pending: new Map(), opened: new Set(), applied: new Map(), dead: false };
    worker.on('message', (m: FromWorker) => {
      const p = slot.pending.get(m.job);
      if (!p) return;
      slot.pending.delete(m.job);
      if (m.type === 'failed') p.reject(new ProtocolError(m.code as ErrorCode, m.message));
      else p.resolve(m);
    });
    const died = (why: string) => {
      if (this.slots[index] !== slot || slot.dead) return;
      slot.dead = true;
      if (!this.closed) this.crashes += 1; // close() terminating it is no crash
      const err = new ProtocolError('UPDATE_WORKER_FAILED', `update worker ${index} ${why}; its updates in flight and its partial sums are lost`);
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (this.round) for (const c of slot.applied.values()) this.round.lost.add(c);
      slot.applied = new Map();
      slot.opened.clear();
    };
    worker.on('error', (err) => died(`crashed (${err.message})`));
    worker.on('exit', (code) => died(`exited with code ${code}`));
    return slot;
  }

  /** The worker of a sender key, replaced first if it died: a session always lands on the same worker (its cached key agreement). */
  private workerFor(senderPublicKey: Uint8Array): number {
    const index = workerIndex(senderPublicKey, this.size);
    if (this.slots[index]!.dead) this.respawn(index);
    return index;
  }

  private respawn(index: number): void {
    if (this.closed) return;
    const fresh = this.spawn(index);
    this.slots[index] = fresh;
    if (this.round) this.post(fresh, { type: 'begin', round: this.round.id, manifest: this.round.manifest, limits: this.round.limits });
  }

  private post(slot: Slot, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(message, transfer);
  }

  private request(index: number, key: number, r: { message: ToWorker; transfer?: ArrayBuffer[] }): Promise<FromWorker> {
    const slot = this.slots[index]!;
    if (slot.dead) return Promise.reject(new ProtocolError('UPDATE_WORKER_FAILED', `update worker ${index} died while holding this update`));
    return new Promise<FromWorker>((resolve, reject) => {
      slot.pending.set(key, { resolve, reject });
      this.post(slot, r.message, r.transfer);
    });
  }
}

/** A request carrying an envelope, its ciphertext moved (ownedBytes) and the small keys copied. */
function sealedMessage(envelope: SealedEnvelope, rest: OpenRequest | EvaluateRequest): { message: ToWorker; transfer: ArrayBuffer[] } {
  const ciphertext = ownedBytes(envelope.ciphertext);
  const parts: SealedParts = { senderPublicKey: Uint8Array.from(envelope.senderPublicKey), nonce: Uint8Array.from(envelope.nonce), ciphertext };
  return { message: { ...rest, ...parts }, transfer: [ciphertext.buffer] };
}

/** A sender key's worker index. */
function workerIndex(senderPublicKey: Uint8Array, size: number): number {
  const h = (senderPublicKey[0]! | (senderPublicKey[1]! << 8) | (senderPublicKey[2]! << 16)) >>> 0;
  return h % size;
}

/**
 * The ciphertext as bytes that can be moved to a worker. ws reassembles a large binary frame out of its
 * socket reads into one fresh Buffer of exactly the frame's size, Socket.IO passes that Buffer on as the
 * attachment, and nothing reads it after the ack: moving its memory costs nothing, where the copy this
 * replaces cost a fresh 400 KB allocation (page faults on this VM) per 100k-parameter update on the event
 * loop. Anything else (a view into a larger buffer: a small frame read together with others; a caller's
 * own Uint8Array, e.g. an in-process device's) is copied, so moving it detaches nobody else's bytes.
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const whole = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole && Buffer.isBuffer(bytes) ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
