import type { z } from 'zod';
import type { ErrorInfo, RoundResult, SecAggFitTask } from '@fedrec/protocol';
import {
  contributionLayout,
  decodeAggregate,
  decodeClipBitSum,
  decodeEvaluation,
  evaluationLayout,
  roundInfeasibility,
  SecAggServer,
  type SecAggAbandoned,
} from '@fedrec/secagg';
import { deviceDpFromConfig } from '@fedrec/protocol';
import { advertiseKeysSchema, checkShareKeys, checkUnmaskResponse, maskedInputSchema, packedChecked } from '@fedrec/protocol';
import { pack, packedSchema, type Packed, type SecAggConfig } from '@fedrec/protocol';
import { dispatchPhase } from './dispatch-phase.js';
import type { Failure, FailureCode } from './failure.js';
import type { FitAssignment, FitCollection, FitCollector, FitRoundContext, SecureEvaluation, SecureEvaluationContext } from './fit-collector.js';
import { errorFields } from './logger.js';
import type { RequestPayload } from './request.js';
import { emptySums } from '@fedrec/protocol';
import { taskFor } from './task.js';
import { UploadDesk, type UploadPacing } from './update-pool/upload-desk.js';
import type { UploadSlots } from './update-pool/upload-slots.js';

type SecAggStageEvent = 'secagg:advertise' | 'secagg:roster' | 'secagg:forward' | 'secagg:unmask';

export type SecAggStage = 'advertise' | 'share-keys' | 'masked-input' | 'unmask';

export interface SecAggCollectorOptions {
  /** Mode secagg or secagg+, threshold, neighbours, clipping and quantization (secagg/config.ts). */
  config: SecAggConfig;
  /** Stage 0 (keys are instant: short), capped by the round deadline. */
  advertiseTimeoutMs: number;
  /** Stage 1 (Shamir splits and encryption: short), capped by the round deadline. */
  shareKeysTimeoutMs: number;
  /** Stage 3, counted from the moment the masked inputs are closed (after the round deadline at the latest). */
  unmaskTimeoutMs: number;
  /** Randomness for the SecAgg+ graph seed (tests). */
  randomBytes?: (n: number) => Uint8Array;
  /** Metrics a secure evaluation sums (each device masks n·metric and n); default hr10, ndcg10, loss. */
  evaluationMetrics?: readonly string[];
  /**
   * Upload pacing of the masked inputs (fit rounds), as plain rounds pace sealed updates: the fit task says
   * `uploadSlot`, and a device asks `upload:slot` with its masked input's size before sending it. Unset = off.
   */
  uploadPacing?: UploadPacing;
}

export const DEFAULT_EVALUATION_METRICS: readonly string[] = ['hr10', 'ndcg10', 'loss'];

type Purpose = { kind: 'fit' } | { kind: 'evaluate'; metrics: readonly string[] };

/**
 * The FitCollector for secure aggregation: runs the four SecAgg stages over Socket.IO with the round's
 * assignments (advertise keys → share keys → masked input, which waits for training until the round
 * deadline → unmask) and hands the strategy only the unmasked sums. A client that times out,
 * disconnects or sends something the server refuses becomes a Failure at that stage; when fewer than
 * the threshold survive, the round is abandoned with nothing revealed and the model stays unchanged.
 */
export class SecAggFitCollector implements FitCollector {
  readonly name: string;
  /** The latest fit round's upload slots (tests and benchmarks: the peak bytes granted at once). */
  uploadSlots: UploadSlots | undefined;

  constructor(private readonly options: SecAggCollectorOptions) {
    if (options.config.mode === 'off') throw new RangeError('SecAggFitCollector needs mode secagg or secagg+');
    this.name = options.config.mode;
  }

  async collect(ctx: FitRoundContext): Promise<FitCollection> {
    return new SecAggRoundRun(ctx, this.options, { kind: 'fit' }, (desk) => (this.uploadSlots = desk?.slots)).run();
  }

  /**
   * The evaluate phase under secure aggregation: the same four stages, each device masking its evaluation result
   * (secagg/evaluation.ts) instead of a delta, so the coordinator learns only the round's weighted means.
   */
  async evaluate(ctx: SecureEvaluationContext): Promise<SecureEvaluation> {
    const metrics = this.options.evaluationMetrics ?? DEFAULT_EVALUATION_METRICS;
    const collection = await new SecAggRoundRun(ctx, this.options, { kind: 'evaluate', metrics }).run();
    return {
      participants: collection.accepted,
      failures: collection.failures.map((f) => ({ ...f, phase: 'evaluate' })),
      numExamples: collection.evaluation?.numExamples ?? 0,
      metrics: collection.evaluation?.metrics ?? {},
      ...(collection.abandonReason ? { abandonReason: collection.abandonReason } : {}),
    };
  }
}

/** One round's worth of state: the server, who failed where, and the stage loop. */
class SecAggRoundRun {
  private readonly byId: Map<string, FitAssignment>;
  private readonly failures = new Map<string, Failure>();
  private readonly config: SecAggConfig;

  constructor(
    private readonly ctx: SecureEvaluationContext,
    private readonly options: SecAggCollectorOptions,
    private readonly purpose: Purpose,
    /** Hears the round's upload desk (undefined when unpaced), for the collector's uploadSlots. */
    private readonly onDesk?: (desk: UploadDesk | undefined) => void,
  ) {
    this.byId = new Map(ctx.assignments.map((a) => [a.clientId, a]));
    this.config = options.config;
  }

  async run(): Promise<FitCollection & { evaluation?: { numExamples: number; metrics: Record<string, number> } }> {
    const { ctx, config, options, purpose } = this;
    const infeasible = roundInfeasibility(config, ctx.assignments.length);
    if (infeasible) return this.abandoned(`secure aggregation cannot run this round: ${infeasible}`);
    // Adaptive DP clipping (coordinator/privacy) asks every device for its clipping bit: one more masked word.
    // Every assignment carries the same DP settings (privacy-guard.ts), so the first one's say the layout.
    const clipBitStd = ctx.assignments[0] ? deviceDpFromConfig(ctx.assignments[0].config)?.clipBitStd : undefined;
    const layout = purpose.kind === 'fit' ? contributionLayout(ctx.global.manifest, { clipBitStd }) : evaluationLayout(purpose.metrics);
    // Paced masked inputs (fit rounds): slots are asked for the masked vector's exact size (4 bytes a word).
    const desk =
      purpose.kind === 'fit' && options.uploadPacing
        ? new UploadDesk(
            { roundId: ctx.roundId, assignments: ctx.assignments, limits: { maxUpdateBytes: 4 * layout.vectorLength }, logger: ctx.logger },
            options.uploadPacing,
          )
        : undefined;
    this.onDesk?.(desk);
    const server = new SecAggServer({
      roundId: ctx.roundId,
      config,
      vectorLength: layout.vectorLength,
      ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
    });
    const shortDeadline = (ms: number) => Math.min(Date.now() + ms, ctx.deadline);
    try {
      // Stage 0: the fit task itself; its ack is the client's keys. Training starts on the client now.
      const tasks = new Map(
        ctx.assignments.map((a): [string, SecAggFitTask] => [
          a.clientId,
          {
            ...taskFor(ctx, a),
            secureAggregation: { config, ...(purpose.kind === 'evaluate' ? { evaluate: { metrics: [...purpose.metrics] } } : {}) },
            ...(desk ? { uploadSlot: true as const } : {}),
          },
        ]),
      );
      await this.stage(
        'advertise',
        'secagg:advertise',
        tasks,
        packedSchema(advertiseKeysSchema),
        (id, m) => server.acceptAdvertisement(id, m),
        shortDeadline(options.advertiseTimeoutMs),
      );
      const rosters = server.closeAdvertisement();
      if (rosters.status === 'abandoned') return this.abandoned(rosters.reason, rosters);

      await this.stage(
        'share-keys',
        'secagg:roster',
        packAll(rosters.messages),
        // Hand-checked: the two replies with one entry per neighbour (protocol/secagg-message-checks.ts).
        packedChecked(checkShareKeys),
        (id, m) => server.acceptShareKeys(id, m),
        shortDeadline(options.shareKeysTimeoutMs),
      );
      const forwarded = server.closeShareKeys();
      if (forwarded.status === 'abandoned') return this.abandoned(forwarded.reason, forwarded);
      this.excluded(forwarded.dropped, 'share-keys', 'too few of its neighbours shared keys for its shares to be recoverable');

      desk?.open();
      await this.stage(
        'masked-input',
        'secagg:forward',
        packAll(forwarded.messages),
        packedSchema(maskedInputSchema),
        (id, m) => {
          // Paced: refused (UPLOAD_SLOT_REQUIRED, TOO_LARGE) unless it came through a slot at least its size; the
          // slot goes to the next device as soon as the input is taken into the sum (or refused).
          desk?.admit(id, m.masked.length);
          try {
            server.acceptMaskedInput(id, m);
          } finally {
            desk?.release(id);
          }
        },
        ctx.deadline,
      ).finally(() => desk?.close());
      const requests = server.closeMaskedInput();
      if (requests.status === 'abandoned') return this.abandoned(requests.reason, requests);

      await this.stage(
        'unmask',
        'secagg:unmask',
        packAll(requests.messages),
        packedChecked(checkUnmaskResponse),
        (id, m) => server.acceptUnmaskResponse(id, m),
        Date.now() + options.unmaskTimeoutMs,
      );
      const outcome = await server.finish();
      if (outcome.status === 'abandoned') return this.abandoned(outcome.reason, outcome);

      const evaluation = purpose.kind === 'evaluate' ? decodeEvaluation(outcome.sum, outcome.contributors.length, purpose.metrics, config) : undefined;
      const sums = purpose.kind === 'fit' ? decodeAggregate(outcome.sum, outcome.contributors.length, layout, config) : emptySums(ctx.global.manifest);
      const clipBitSum = layout.clipBit ? decodeClipBitSum(outcome.sum, outcome.contributors.length, layout, config) : undefined;
      const contributors = new Set(outcome.contributors);
      // A contributor that missed the unmask stage still counts: its input is in the sum.
      for (const id of contributors) this.failures.delete(id);
      this.excluded(
        [...this.byId.keys()].filter((id) => !contributors.has(id)),
        'masked-input',
        'its input is not in the sum',
      );
      ctx.logger.info(
        { contributors: contributors.size, droppedAfterShareKeys: outcome.droppedAfterShareKeys.length, mode: config.mode, purpose: purpose.kind },
        'secure aggregation completed',
      );
      for (const a of ctx.assignments) this.notify(a, contributors.has(a.clientId) ? undefined : this.verdictFor(a.clientId, 'its input is not in the sum'));
      return {
        sums,
        accepted: outcome.contributors,
        failures: [...this.failures.values()],
        metrics: {},
        ...(evaluation ? { evaluation } : {}),
        ...(clipBitSum !== undefined ? { clipBitSum } : {}),
      };
    } catch (err) {
      ctx.logger.error(errorFields(err), 'secure aggregation failed unexpectedly');
      return this.abandoned(`secure aggregation failed: ${err instanceof Error ? err.message : String(err)}`, server.abandon('internal error'));
    }
  }

  /** Sends one stage's messages to their clients and feeds valid replies to `accept` as they arrive, until the deadline. */
  private async stage<E extends SecAggStageEvent, T>(
    stage: SecAggStage,
    event: E,
    messages: ReadonlyMap<string, RequestPayload<E>>,
    schema: z.ZodType<T>,
    accept: (clientId: string, message: T) => void,
    deadline: number,
  ): Promise<void> {
    const requests = [...messages].flatMap(([clientId, payload]) => {
      const a = this.byId.get(clientId);
      return a ? [{ clientId, socket: a.socket, payload }] : [];
    });
    await dispatchPhase({
      event,
      requests,
      reply: schema,
      deadline,
      signal: this.ctx.signal,
      accept,
      // Recorded as they happen, so the log shows dropouts in the order they occurred.
      settled: (clientId, verdict) => {
        if (!verdict.ok) this.fail(clientId, stage, verdict.failure.code, verdict.failure.message);
      },
    });
    this.ctx.logger.debug({ stage, sent: messages.size, failed: this.failures.size }, 'secure aggregation stage closed');
  }

  private fail(clientId: string, stage: SecAggStage, code: FailureCode, message: string): void {
    if (this.failures.has(clientId)) return;
    const a = this.byId.get(clientId);
    this.failures.set(clientId, { clientId, taskId: a?.taskId ?? '', phase: 'fit', code, message: `secagg ${stage}: ${message}` });
    this.ctx.logger.warn({ clientId, stage, code, reason: message }, 'secure aggregation participant dropped');
  }

  /** Clients the protocol left out at a stage without a failure of their own (e.g. their neighbours dropped). */
  private excluded(clientIds: Iterable<string>, stage: SecAggStage, why: string): void {
    for (const id of clientIds) if (!this.failures.has(id)) this.fail(id, stage, 'ROUND_CLOSED', why);
  }

  private abandoned(reason: string, _outcome?: SecAggAbandoned): FitCollection {
    const { ctx } = this;
    if (!ctx.signal.aborted) ctx.logger.warn({ reason, failures: this.failures.size }, 'secure aggregation abandoned; nothing revealed');
    for (const a of ctx.assignments) this.notify(a, this.verdictFor(a.clientId, `round abandoned: ${reason}`));
    return { sums: emptySums(ctx.global.manifest), accepted: [], failures: [...this.failures.values()], metrics: {}, abandonReason: reason };
  }

  private verdictFor(clientId: string, fallback: string): ErrorInfo {
    const f = this.failures.get(clientId);
    if (!f) return { code: 'ROUND_CLOSED', message: fallback };
    return { code: f.code === 'TIMEOUT' || f.code === 'DISCONNECTED' || f.code === 'ABORTED' ? 'ROUND_CLOSED' : f.code, message: f.message };
  }

  /** Tells a client the verdict (best effort), which also lets it drop the round's secrets. */
  private notify(a: FitAssignment, error: ErrorInfo | undefined): void {
    const result: RoundResult = { roundId: this.ctx.roundId, taskId: a.taskId, accepted: error === undefined, ...(error ? { error } : {}) };
    if (a.socket.connected) a.socket.emit('round:result', result);
  }
}

/** Stage messages go out packed (protocol/packed.ts): one binary attachment each, whatever the neighbour count. */
function packAll<T>(messages: ReadonlyMap<string, T>): Map<string, Packed<T>> {
  return new Map([...messages].map(([id, m]) => [id, pack(m)]));
}
