import {
  ProtocolError,
  evaluateTaskSchema,
  fitTaskSchema,
  roundResultSchema,
  type EnvelopeSealer,
  type ErrorCode,
  type EvaluateReply,
  type FitReply,
  type ParsedEvaluateTask,
  type ParsedFitTask,
} from '@fedrec/protocol';
import type { FederatedClientEvents } from './client-events.js';
import type { ClientSocket } from './connection.js';
import type { EventSink } from './emitter.js';
import { errorMessage } from './errors.js';
import { finishFit, startFit } from './fit-run.js';
import type { Logger } from './logger.js';
import { runEvaluateTask, sealEvaluation, sealUpdate, taskContext } from './round-tasks.js';
import type { CorrectionJobRunner, MaskExpander, SecAggParticipantHost, SecAggStageName, ShareJobRunner } from './secagg-participant-host.js';
import { secAggStages } from './secagg-stages.js';
import { serveRoutes, taskRoute, type TaskRoute, type TaskStages } from './task-route.js';
import type { Trainer } from './trainer.js';
import { withTaskModel, type TaskModels } from './task-model.js';
import { ErrorFeedback } from './error-feedback.js';
import { askUploadSlot } from './upload-slot.js';

export interface TaskRunnerOptions {
  trainer: Trainer;
  logger: Logger;
  events: EventSink<FederatedClientEvents>;
  clientId(): string | undefined;
  /** Seals plain updates to the coordinator of the current session; undefined before the first welcome. */
  sealer(): EnvelopeSealer | undefined;
  /** The stages plugged in besides round:fit and round:evaluate (default: secure aggregation's, secagg-stages.ts). */
  stages?: (host: SecAggParticipantHost) => TaskStages;
  now?: () => number;
  /** Where tasks that name a model version get its weights (model-fetch.ts); without it a task must carry them. */
  models?: TaskModels;
  /** Keeps what compressing an update lost, to add to the next one (error-feedback.ts); default: in memory. */
  feedback?: ErrorFeedback;
  /** Runs secure aggregation's mask work off this thread (SecAggParticipantHost.expandMasks); default: on it. */
  expandMasks?: MaskExpander;
  /** Runs secure aggregation's share work off this thread (SecAggParticipantHost.runShareJobs); default: on it. */
  runShareJobs?: ShareJobRunner;
  /** Runs secure aggregation's unmask correction off this thread (SecAggParticipantHost.runCorrectionJobs); default: on it. */
  runCorrectionJobs?: CorrectionJobRunner;
}

/**
 * Runs what the coordinator asks of this device, one task at a time (BUSY otherwise): every request
 * is validated and answered through the one wrapper (serve.ts); fits start and finish through fit-run.ts,
 * sealed here for plain rounds or masked by the secure-aggregation stages plugged in; evaluations
 * return plain metrics. It also hosts those stages (SecAggParticipantHost), so both paths share its events.
 */
export class TaskRunner implements SecAggParticipantHost {
  readonly trainer: Trainer;
  readonly logger: Logger;
  readonly expandMasks: MaskExpander | undefined;
  readonly runShareJobs: ShareJobRunner | undefined;
  readonly runCorrectionJobs: CorrectionJobRunner | undefined;
  private readonly options: TaskRunnerOptions;
  private readonly now: () => number;
  private readonly routes: readonly TaskRoute[];
  private readonly stages: TaskStages;
  private running = false;
  private lastRound: number | undefined;
  private readonly feedback: ErrorFeedback;
  /** The socket tasks arrive on (the latest connection): paced fits ask it for an upload slot. */
  private socket: ClientSocket | undefined;

  constructor(options: TaskRunnerOptions) {
    this.options = options;
    this.trainer = options.trainer;
    this.logger = options.logger;
    this.expandMasks = options.expandMasks;
    this.runShareJobs = options.runShareJobs;
    this.runCorrectionJobs = options.runCorrectionJobs;
    this.now = options.now ?? Date.now;
    this.stages = (options.stages ?? secAggStages)(this);
    this.feedback = options.feedback ?? new ErrorFeedback();
    const routes = [
      taskRoute('round:fit', fitTaskSchema, (task) => this.fit(task)),
      taskRoute('round:evaluate', evaluateTaskSchema, (task) => this.evaluate(task)),
      ...this.stages.routes,
    ];
    const models = options.models;
    this.routes = models ? routes.map((r) => withTaskModel(r, models)) : routes;
  }

  /** The round of the last task this client started. */
  get lastRoundId(): number | undefined {
    return this.lastRound;
  }

  /** Answers every task request arriving on this socket. */
  serve(socket: ClientSocket): void {
    this.socket = socket;
    serveRoutes(socket, this.routes, this.logger);
  }

  /** The round:result listener: the coordinator's verdict on a fit reply; it also closes a masked round. */
  roundResult(raw: unknown): void {
    const parsed = roundResultSchema.safeParse(raw);
    if (!parsed.success) {
      this.logger.warn({ err: parsed.error.message }, 'ignored malformed round:result');
      return;
    }
    const result = parsed.data;
    this.stages.roundEnded(result.roundId);
    if (result.accepted) this.logger.debug({ roundId: result.roundId, taskId: result.taskId }, 'update accepted');
    else this.logger.warn({ roundId: result.roundId, taskId: result.taskId, ...result.error }, 'update rejected by the coordinator');
    this.options.events.emit('round:result', result);
  }

  /** A plain fit: train, seal to the coordinator's key, wait for an upload slot when the task says so, answer with the envelope. */
  async fit(task: ParsedFitTask): Promise<FitReply> {
    if (this.running) throw new ProtocolError('BUSY', 'this client is already running a task');
    const sealer = this.options.sealer();
    const clientId = this.options.clientId();
    if (!sealer || !clientId) throw new ProtocolError('INTERNAL', 'fit task before the welcome: no coordinator key to seal to');
    this.logger.info({ roundId: task.roundId, taskId: task.taskId, modelVersion: task.modelVersion }, 'fit task received');
    const compression = task.compression ?? 'none';
    // Any encoding may hold a residual: fp16/int8's quantization error, or rows past the padded row budget.
    await this.feedback.load();
    const run = startFit(this, task, () => taskContext(task), this.now);
    return finishFit(
      this,
      run,
      async (trained) => {
        try {
          const sent = await sealUpdate(trained, task, trained.ctx.global, clientId, sealer, { compression, feedback: this.feedback });
          // Paced: the update goes out only once the coordinator grants a slot for its size (upload-slot.ts).
          if (task.uploadSlot)
            await askUploadSlot(
              this.socket,
              { roundId: task.roundId, taskId: task.taskId, bytes: sent.reply.envelope.ciphertext.length, deadline: task.deadline },
              this.now,
            );
          return sent;
        } catch (err) {
          this.fitFailed(task, err); // a plain fit that cannot be sealed, or gets no upload slot, failed as a task
          throw err;
        }
      },
      this.now,
    );
  }

  /** Evaluates the global model locally; only counts and scalar metrics go back, sealed to the coordinator's key. */
  async evaluate(task: ParsedEvaluateTask): Promise<EvaluateReply> {
    const sealer = this.options.sealer();
    const clientId = this.options.clientId();
    if (!sealer || !clientId) throw new ProtocolError('INTERNAL', 'evaluate task before the welcome: no coordinator key to seal to');
    return this.exclusive(async () => {
      const started = this.now();
      const meta = { roundId: task.roundId, taskId: task.taskId, modelVersion: task.modelVersion };
      this.lastRound = task.roundId;
      this.options.events.emit('evaluate:start', meta);
      try {
        const result = await runEvaluateTask(task, this.trainer);
        const reply = await sealEvaluation(result, task, clientId, sealer);
        // The device's own log and events keep its metrics: they never leave it in clear.
        const done = { roundId: task.roundId, taskId: task.taskId, ...result, durationMs: this.now() - started };
        this.logger.info(done, 'evaluate task done');
        this.options.events.emit('evaluate:done', done);
        return reply;
      } catch (err) {
        this.reportFailure('evaluate', task, err);
        throw err;
      }
    });
  }

  // ---- SecAggParticipantHost: what fits (plain or masked) report through ----------------------

  clientId(): string | undefined {
    return this.options.clientId();
  }

  isBusy(): boolean {
    return this.running;
  }

  /** One task at a time: a second one while training answers BUSY. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.running) throw new ProtocolError('BUSY', 'this client is already running a task');
    this.running = true;
    try {
      return await work();
    } finally {
      this.running = false;
    }
  }

  fitStarted(meta: { roundId: number; taskId: string; modelVersion: number }): void {
    this.lastRound = meta.roundId;
    this.options.events.emit('fit:start', meta);
  }

  fitDone(done: FederatedClientEvents['fit:done']): void {
    this.logger.info(done, 'fit task done');
    this.options.events.emit('fit:done', done);
  }

  fitFailed(task: { roundId: number; taskId: string }, err: unknown): void {
    this.reportFailure('fit', task, err);
  }

  /** A masked input's upload slot, asked on the latest connection as a plain fit asks for its sealed update's. */
  askUploadSlot(request: { roundId: number; taskId: string; bytes: number; deadline: number }): Promise<unknown> {
    return askUploadSlot(this.socket, request, this.now);
  }

  stageAnswered(progress: { roundId: number; taskId: string; stage: SecAggStageName }): void {
    this.options.events.emit('secagg:stage', progress);
  }

  private reportFailure(kind: 'fit' | 'evaluate', task: { roundId: number; taskId: string }, err: unknown): void {
    const code: ErrorCode = err instanceof ProtocolError ? err.code : 'INTERNAL';
    this.options.events.emit('task:failed', { kind, roundId: task.roundId, taskId: task.taskId, code, message: errorMessage(err) });
  }
}
