import type { CorrectionJob, ExpandedMask, MaskJob, SharedKeys, ShareJob } from '@fedrec/secagg';
import type { Logger } from './logger.js';
import type { Trainer } from './trainer.js';

export type SecAggStageName = 'advertise' | 'share-keys' | 'masked-input' | 'unmask';

/** What the participant needs from the client that hosts it (FederatedClient). */
export interface SecAggParticipantHost {
  trainer: Trainer;
  logger: Logger;
  clientId(): string | undefined;
  isBusy(): boolean;
  /** Runs training under the client's one-task-at-a-time rule. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  fitStarted(meta: { roundId: number; taskId: string; modelVersion: number }): void;
  fitDone(done: { roundId: number; taskId: string; numExamples: number; bytesSent: number; metrics: Record<string, number>; durationMs: number }): void;
  fitFailed(task: { roundId: number; taskId: string }, err: unknown): void;
  /**
   * Upload pacing (protocol/upload-slot.ts): resolves once the coordinator grants a slot for `bytes` (the masked
   * input's size), throws its refusal otherwise. Asked only when the task says `uploadSlot`.
   */
  askUploadSlot(request: { roundId: number; taskId: string; bytes: number; deadline: number }): Promise<unknown>;
  /** An answer for this stage is ready (it goes out as the ack right after). */
  stageAnswered(progress: { roundId: number; taskId: string; stage: SecAggStageName }): void;
  /**
   * Runs a round's mask work (`expandMaskJob`) off the thread that trains, e.g. in a worker thread
   * (client-sdk/node/worker-mask-expander.ts), so it overlaps training; without it the masks are expanded on this
   * thread as soon as the forwarded shares arrive.
   */
  expandMasks?: MaskExpander | undefined;
  /**
   * Runs a round's share work (`runShareJob`: k agreements, two Shamir splits, k seals) off the thread that trains,
   * on the same worker as the masks; without it the shares are made on this thread when the roster arrives.
   */
  runShareJobs?: ShareJobRunner | undefined;
  /**
   * Runs a round's unmask correction (`runCorrectionJob`: one mask expansion per dropped neighbour) on the same
   * worker; without it the correction is made on this thread when the unmask request arrives.
   */
  runCorrectionJobs?: CorrectionJobRunner | undefined;
}

/** Where a round's mask job runs; resolves with expandMaskJob's result for it. */
export type MaskExpander = (job: MaskJob) => Promise<ExpandedMask>;

/** Where a round's share job runs; resolves with runShareJob's result for it. */
export type ShareJobRunner = (job: ShareJob) => Promise<SharedKeys>;

/** Where a round's correction job runs; resolves with runCorrectionJob's result for it. */
export type CorrectionJobRunner = (job: CorrectionJob) => Promise<Uint8Array>;

/**
 * A worker that runs a device's secure-aggregation jobs, share keys, masks and unmask corrections (node/worker-mask-expander.ts,
 * browser/web-worker-mask-expander.ts): the client releases it on close(), so a closed client leaves no worker
 * idling in the page or the process. Closing does not spoil it: the next job starts a new worker.
 */
export interface MaskWorkerExpander {
  readonly expand: MaskExpander;
  readonly runShareJob: ShareJobRunner;
  /** Absent (an app's own worker may not run it): the correction is made on the thread that asks. */
  readonly correct?: CorrectionJobRunner;
  close(): void | Promise<void>;
}
