import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import type { UserData } from '@fedrec/recsys/split.js';
import type { RoundSums } from './round-sums.js';
import type { FederatedOptions } from './federated.js';

/** What a simulation worker is started with: its shard of clients (their data stays there). */
export interface WorkerInit {
  arch: NcfArch;
  options: FederatedOptions;
  users: UserData[];
}

export type WorkerRequest =
  { kind: 'fit'; round: number; users: number[]; shared: Array<[string, Float32Array]> } | { kind: 'evaluate'; shared: Array<[string, Float32Array]> };

export type WorkerReply =
  { kind: 'fit'; sums: RoundSums } | { kind: 'evaluate'; hr: number; ndcg: number; loss: number; users: number } | { kind: 'error'; message: string };
