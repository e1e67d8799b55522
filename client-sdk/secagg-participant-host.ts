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
}
