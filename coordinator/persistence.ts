import { join } from 'node:path';
import { sameSharedLayout } from '@fedrec/protocol';
import type { KeyPair } from '@fedrec/protocol';
import { CheckpointStore } from './checkpoint-store.js';
import { loadOrCreateKeyPair } from './key-store.js';
import type { ResolvedOptions } from './options.js';
import type { CoordinatorState } from './state.js';

type PersistenceOptions = Pick<ResolvedOptions, 'checkpointDir' | 'keyFile' | 'keepCheckpoints' | 'initialWeights' | 'strategy' | 'logger'>;

/**
 * What survives a restart: the key pair (so pinned fingerprints stay valid) and the newest checkpoint
 * (model, round counter, history), loaded at start and written after each commit. Without a
 * checkpointDir (and keyFile) the coordinator keeps everything in memory only.
 */
export class CoordinatorPersistence {
  private store: CheckpointStore | undefined;

  constructor(private readonly o: PersistenceOptions) {}

  /** The key file defaults to the checkpoint directory, so one directory is a whole coordinator. */
  loadKeyPair(): Promise<KeyPair> {
    const { keyFile, checkpointDir, logger } = this.o;
    return loadOrCreateKeyPair(keyFile ?? (checkpointDir ? join(checkpointDir, 'coordinator-key.json') : undefined), logger);
  }

  /** Resumes `state` from the newest valid checkpoint, or lets the strategy initialize a fresh model. */
  async restoreOrInitialize(state: CoordinatorState): Promise<void> {
    const o = this.o;
    if (o.checkpointDir) {
      this.store = new CheckpointStore(o.checkpointDir, o.keepCheckpoints, o.logger);
      await this.store.removeLeftovers();
      const restored = await this.store.loadLatest();
      if (restored) {
        if (!sameSharedLayout(restored.weights.manifest, o.initialWeights.manifest)) {
          throw new Error(`checkpoint in ${o.checkpointDir} has a different model layout than the configured model; use another checkpointDir`);
        }
        Object.assign(state, {
          global: restored.weights,
          modelSpec: restored.modelSpec,
          modelVersion: restored.modelVersion,
          nextRoundId: restored.nextRoundId,
          history: restored.history,
          // The counters go on from the checkpoint (every commit made one version; every round took one id),
          // not from 0, so a restarted service's dashboard and /api/status agree with its model version.
          roundsCommitted: restored.modelVersion,
          roundsAbandoned: Math.max(0, restored.nextRoundId - restored.modelVersion),
        });
        o.logger.info({ modelVersion: restored.modelVersion, nextRoundId: restored.nextRoundId, dir: o.checkpointDir }, 'resumed from checkpoint');
        return;
      }
    }
    const initialized = await o.strategy.initialize?.(o.initialWeights);
    if (initialized) state.global = initialized;
  }

  /** Writes a checkpoint of `state` (after a commit); a no-op without a checkpointDir. */
  async save(state: CoordinatorState): Promise<void> {
    if (!this.store) return;
    await this.store.save({
      modelVersion: state.modelVersion,
      nextRoundId: state.nextRoundId,
      modelSpec: state.modelSpec,
      weights: state.global,
      history: state.history,
      savedAt: Date.now(),
    });
  }
}
