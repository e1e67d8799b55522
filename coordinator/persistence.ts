import { join } from 'node:path';
import { sameSharedLayout } from '@fedrec/protocol';
import type { KeyPair } from '@fedrec/protocol';
import { Catalogue, type PersistedCatalogue } from './catalogue.js';
import { growManifest, numItemsOf } from './catalogue-growth.js';
import { CheckpointStore } from './checkpoint-store.js';
import { loadOrCreateKeyPair } from './key-store.js';
import type { ResolvedOptions } from './options.js';
import type { CheckpointState } from './checkpoint-store.js';
import type { CoordinatorState, ModelSnapshot } from './state.js';

type PersistenceOptions = Pick<ResolvedOptions, 'checkpointDir' | 'keyFile' | 'keepCheckpoints' | 'initialWeights' | 'modelSpec' | 'strategy' | 'logger'>;

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
        // A grown catalogue leaves the item tables longer than the configured model's: compare at that size.
        const configured = numItemsOf(o.modelSpec);
        const restoredItems = numItemsOf(restored.modelSpec);
        const expected =
          configured !== undefined && restoredItems !== undefined && restoredItems > configured
            ? growManifest(o.initialWeights.manifest, configured, restoredItems)
            : o.initialWeights.manifest;
        if (!sameSharedLayout(restored.weights.manifest, expected)) {
          throw new Error(`checkpoint in ${o.checkpointDir} has a different model layout than the configured model; use another checkpointDir`);
        }
        const catalogue = restored.catalogue ? Catalogue.restore(restored.catalogue) : Catalogue.numeric(restoredItems ?? 0);
        if (restoredItems !== undefined && catalogue.size !== restoredItems) {
          throw new Error(`checkpoint in ${o.checkpointDir} has ${catalogue.size} catalogue items for a model of ${restoredItems}`);
        }
        Object.assign(state, {
          global: restored.weights,
          modelSpec: restored.modelSpec,
          modelVersion: restored.modelVersion,
          nextRoundId: restored.nextRoundId,
          history: restored.history,
          catalogue,
          // The counters go on from the checkpoint (every commit made one version; every round took one id),
          // not from 0, so a restarted service's dashboard and /api/status agree with its model version.
          roundsCommitted: restored.modelVersion,
          roundsAbandoned: Math.max(0, restored.nextRoundId - restored.modelVersion),
        });
        if (restored.strategyState) o.strategy.loadState?.(restored.weights.manifest, restored.strategyState);
        if (restored.policyState) state.updatePolicy.restore(restored.policyState);
        o.logger.info({ modelVersion: restored.modelVersion, nextRoundId: restored.nextRoundId, dir: o.checkpointDir }, 'resumed from checkpoint');
        return;
      }
    }
    const initialized = await o.strategy.initialize?.(o.initialWeights);
    if (initialized) state.global = initialized;
  }

  /** True when checkpoints are written (a checkpointDir is set). */
  get durable(): boolean {
    return this.store !== undefined;
  }

  /**
   * Writes (and fsyncs) a checkpoint of `snapshot` with the strategy's and the update policy's state and
   * the catalogue the snapshot's item rows belong to; a no-op without a checkpointDir. Called before the
   * snapshot's version is served (by the round engine, and by the catalogue keeper when it grows the model).
   */
  async save(snapshot: ModelSnapshot, policy: CoordinatorState['updatePolicy'], catalogue: PersistedCatalogue): Promise<void> {
    if (!this.store) return;
    const strategyState = this.o.strategy.saveState?.(snapshot.global.manifest);
    await this.store.save({
      modelVersion: snapshot.modelVersion,
      nextRoundId: snapshot.nextRoundId,
      modelSpec: snapshot.modelSpec,
      weights: snapshot.global,
      history: snapshot.history,
      savedAt: Date.now(),
      ...(strategyState ? { strategyState } : {}),
      policyState: policy.state(),
      ...(snapshot.rolledBackFrom !== undefined ? { rolledBackFrom: snapshot.rolledBackFrom } : {}),
      catalogue,
    });
  }

  /** A kept checkpoint of one version (for a rollback), or null. */
  async load(modelVersion: number): Promise<CheckpointState | null> {
    return this.store ? this.store.load(modelVersion) : null;
  }
}
