import { ProtocolError, deviceDpFromConfig, type ParsedSecAggFitTask } from '@fedrec/protocol';
import {
  SecAggClient,
  SecAggError,
  contributionLayout,
  encodeContribution,
  encodeEvaluation,
  evaluationLayout,
  prepareContribution,
  type ContributionLayout,
} from '@fedrec/secagg';
import {
  type AdvertiseKeys,
  type ForwardedShares,
  type MaskedInput,
  type Roster,
  type ShareKeys,
  type UnmaskRequest,
  type UnmaskResponse,
} from '@fedrec/protocol';
import { finishFit, startFit, type FitRun } from './fit-run.js';
import { runEvaluateTask, taskContext } from './round-tasks.js';
import type { EvaluateMetrics } from '@fedrec/protocol';
import type { SecAggParticipantHost, SecAggStageName } from './secagg-participant-host.js';

interface ActiveRound {
  task: ParsedSecAggFitTask;
  client: SecAggClient;
  layout: ContributionLayout;
  /** The fit this round masks, started at stage 0 and finished at stage 2 (absent on a secure evaluation). */
  fit?: FitRun;
  /** A secure evaluation's result, masked at stage 2 instead of a delta (secagg/evaluation.ts). */
  evaluation?: { metrics: readonly string[]; result: Promise<EvaluateMetrics> };
}

/**
 * A client's side of secure aggregation over the wire: one SecAggClient per round, driven by the
 * coordinator's stage events (secagg-stages.ts plugs them into the task runner). The fit is the one every
 * task runs (fit-run.ts): it starts with the masked fit task (stage 0) and is finished at stage 2 by masking
 * instead of sealing. Every refusal of the SecAgg core (e.g. a request for both shares of one peer) is answered with its error code, the reason first in the message, and ends the round here.
 */
export class SecAggParticipant {
  private round: ActiveRound | undefined;

  constructor(private readonly host: SecAggParticipantHost) {}

  /** The round this client is masking for, if any. */
  get roundId(): number | undefined {
    return this.round?.task.roundId;
  }

  /** Stage 0: fresh keys for the round; training starts in the background. */
  async advertise(task: ParsedSecAggFitTask): Promise<AdvertiseKeys> {
    if (this.host.isBusy()) throw new ProtocolError('BUSY', 'this client is already running a task');
    const clientId = this.host.clientId();
    if (!clientId) throw new ProtocolError('INTERNAL', 'secure-aggregation task before the client has an id');
    const secureEvaluation = task.secureAggregation.evaluate;
    if (secureEvaluation) {
      // Evaluate instead of training; only the masked [n·metric | n] leaves, summed with the round's other devices.
      const layout = evaluationLayout(secureEvaluation.metrics);
      const client = new SecAggClient({ clientId, roundId: task.roundId, config: task.secureAggregation.config, vectorLength: layout.vectorLength });
      const keys = this.refusals(() => client.advertiseKeys());
      const result = this.host.exclusive(() => runEvaluateTask(task, this.host.trainer));
      result.catch(() => undefined); // awaited at stage 2
      this.round = { task, client, layout, evaluation: { metrics: secureEvaluation.metrics, result } };
      this.answered(this.round, 'advertise');
      return keys;
    }
    const ctx = taskContext(task);
    // Adaptive DP clipping: the coordinator asked for the clipping bit in the masked vector (and lays its sum out the same way).
    const layout = contributionLayout(ctx.global.manifest, { clipBitStd: clipBitStdOf(task) });
    const client = new SecAggClient({ clientId, roundId: task.roundId, config: task.secureAggregation.config, vectorLength: layout.vectorLength });
    const keys = this.refusals(() => client.advertiseKeys());
    const fit = startFit(this.host, task, () => ctx);
    fit.trained.catch(() => undefined); // awaited at stage 2; a round abandoned earlier must not leave an unhandled rejection
    this.round = { task, client, layout, fit };
    const meta = { roundId: task.roundId, taskId: task.taskId, modelVersion: task.modelVersion };
    this.host.logger.info({ ...meta, mode: task.secureAggregation.config.mode }, 'secure-aggregation round joined');
    this.answered(this.round, 'advertise');
    return keys;
  }

  /**
   * Stage 1: checks the roster and returns the encrypted Shamir shares for the neighbours (made on another thread
   * when the host has one: the device is training meanwhile).
   */
  async shareKeys(roster: Roster): Promise<ShareKeys> {
    const round = this.current(roster.roundId);
    const run = this.host.runShareJobs;
    const reply = await this.refusalsAsync(round, () => (run ? round.client.shareKeysWith(roster, run) : round.client.shareKeys(roster)));
    this.answered(round, 'share-keys');
    return reply;
  }

  /** Stage 2: takes the neighbours' shares, waits for training, and returns the masked, quantized contribution. */
  async maskedInput(forwarded: ForwardedShares): Promise<MaskedInput> {
    const round = this.current(forwarded.roundId);
    // The quantizer's memory and first dither draw now, while the device still trains, not after it (secagg/contribution.ts).
    if (!round.evaluation) prepareContribution(round.layout);
    // The masks need no input: expanded now, while the device still trains (on another thread when the host has one).
    const expand = this.host.expandMasks;
    if (expand) await this.refusalsAsync(round, () => round.client.receiveSharesWith(forwarded, expand));
    else this.refusals(() => round.client.receiveShares(forwarded), round);
    if (round.evaluation) return this.maskedEvaluation(round, round.evaluation);
    let reply: MaskedInput;
    try {
      reply = await finishFit(this.host, round.fit!, async ({ outcome }) => {
        if (this.round !== round) throw new ProtocolError('ROUND_CLOSED', `round ${round.task.roundId} ended while training`);
        if (round.layout.clipBit && outcome.clipBit === undefined)
          throw new ProtocolError('INTERNAL', 'adaptive clipping: the DP step left no clipping bit to mask');
        const input = encodeContribution(
          {
            numExamples: outcome.numExamples,
            delta: outcome.delta,
            ...(outcome.rowWeights ? { rowWeights: outcome.rowWeights } : {}),
            ...(round.layout.clipBit ? { clipBit: outcome.clipBit! } : {}),
          },
          round.layout,
          round.task.secureAggregation.config,
        );
        const masked = this.refusals(() => round.client.maskInput(input), round);
        // Paced (protocol/upload-slot.ts): the masked input goes out only once a slot for its size is granted.
        const { roundId, taskId, deadline, uploadSlot } = round.task;
        if (uploadSlot) await this.host.askUploadSlot({ roundId, taskId, bytes: masked.masked.byteLength, deadline });
        return { reply: masked, bytesSent: masked.masked.byteLength };
      });
    } catch (err) {
      this.end(round); // a failed fit or a refused step ends the round here
      throw err;
    }
    this.answered(round, 'masked-input');
    return reply;
  }

  private async maskedEvaluation(round: ActiveRound, evaluation: NonNullable<ActiveRound['evaluation']>): Promise<MaskedInput> {
    let result: EvaluateMetrics;
    try {
      result = await evaluation.result;
    } catch (err) {
      this.end(round);
      throw err;
    }
    if (this.round !== round) throw new ProtocolError('ROUND_CLOSED', `round ${round.task.roundId} ended while evaluating`);
    const input = encodeEvaluation(result, evaluation.metrics, round.task.secureAggregation.config);
    const masked = this.refusals(() => round.client.maskInput(input), round);
    this.answered(round, 'masked-input');
    return masked;
  }

  /**
   * Stage 3: reveals the shares asked for (refusing a request for both shares of one peer), with the correction for
   * dropped neighbours made on the host's worker when it has one, then forgets the round.
   */
  async unmask(request: UnmaskRequest): Promise<UnmaskResponse> {
    const round = this.current(request.roundId);
    const run = this.host.runCorrectionJobs;
    const reply = run ? await this.refusalsAsync(round, () => round.client.unmaskWith(request, run)) : this.refusals(() => round.client.unmask(request), round);
    this.end(round);
    this.answered(round, 'unmask');
    return reply;
  }

  /** The coordinator's verdict closed the round (or abandoned it): drop its secrets. */
  roundEnded(roundId: number): void {
    if (this.round?.task.roundId === roundId) this.round = undefined;
  }

  private current(roundId: number): ActiveRound {
    const round = this.round;
    if (!round) throw new ProtocolError('ROUND_CLOSED', `no secure-aggregation round in progress (message for round ${roundId})`);
    if (round.task.roundId !== roundId) throw new ProtocolError('WRONG_ROUND', `message for round ${roundId}, this client is in round ${round.task.roundId}`);
    return round;
  }

  private end(round: ActiveRound): void {
    if (this.round === round) this.round = undefined;
  }

  private answered(round: ActiveRound, stage: SecAggStageName): void {
    this.host.stageAnswered({ roundId: round.task.roundId, taskId: round.task.taskId, stage });
  }

  /** Runs one core step; a SecAggError becomes a ProtocolError with the reason first, and ends the round. */
  private refusals<T>(step: () => T, round?: ActiveRound): T {
    try {
      return step();
    } catch (err) {
      throw this.refused(err, round);
    }
  }

  private async refusalsAsync<T>(round: ActiveRound, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw this.refused(err, round);
    }
  }

  private refused(err: unknown, round: ActiveRound | undefined): Error {
    if (round) this.end(round);
    if (!(err instanceof SecAggError)) return err instanceof Error ? err : new Error(String(err));
    this.host.logger.warn({ roundId: round?.task.roundId, reason: err.reason, err: err.message }, 'secure-aggregation step refused');
    return new ProtocolError(err.code, `${err.reason}: ${err.message}`);
  }
}

/** The clipping bit's noise std when the fit task's DP settings ask for the bit (a malformed setting: INVALID_PAYLOAD). */
function clipBitStdOf(task: ParsedSecAggFitTask): number | undefined {
  try {
    return deviceDpFromConfig(task.config)?.clipBitStd;
  } catch (err) {
    throw new ProtocolError('INVALID_PAYLOAD', err instanceof Error ? err.message : String(err));
  }
}
