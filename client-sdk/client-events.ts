import type { ErrorCode, ModelUpdated, RoundResult } from '@fedrec/protocol';
import type { SecAggStageName } from './secagg-participant-host.js';

export interface WelcomeInfo {
  clientId: string;
  protocolVersion: number;
  fingerprint: string;
  modelVersion: number;
}

export interface TaskFailure {
  kind: 'fit' | 'evaluate';
  roundId: number;
  taskId: string;
  code: ErrorCode;
  message: string;
}

/** Everything a FederatedClient reports; its parts (connection, task runner, model fetch) each emit their share. */
export interface FederatedClientEvents {
  connected: { clientId: string };
  disconnected: { reason: string };
  reconnecting: { attempt: number };
  welcome: WelcomeInfo;
  'fit:start': { roundId: number; taskId: string; modelVersion: number };
  'fit:done': { roundId: number; taskId: string; numExamples: number; bytesSent: number; metrics: Record<string, number>; durationMs: number };
  'evaluate:start': { roundId: number; taskId: string; modelVersion: number };
  'evaluate:done': { roundId: number; taskId: string; numExamples: number; metrics: Record<string, number>; durationMs: number };
  'task:failed': TaskFailure;
  'model:updated': ModelUpdated;
  /** The coordinator's verdict on one of this client's fit replies (accepted, or why not). */
  'round:result': RoundResult;
  /** Secure aggregation: this client's answer to a stage is ready and goes out now. */
  'secagg:stage': { roundId: number; taskId: string; stage: SecAggStageName };
  error: Error;
}
