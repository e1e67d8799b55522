/** What the coordinator drives, in either mode: the round engine (sync) or the buffered engine (FedBuff). */
export interface CoordinatorEngine {
  start(): void;
  stop(): Promise<void>;
  /** Runs `work` between commits (catalogue growth): never while a version is being committed. */
  betweenRounds<T>(work: () => Promise<T>): Promise<T>;
  rollback(toVersion: number | undefined, reason: string): Promise<{ modelVersion: number; from: number }>;
}
