import {
  MAX_TENSOR_ELEMENTS,
  ProtocolError,
  sameSharedLayout,
  tensorSize,
  type CatalogueAddResult,
  type CatalogueItem,
  type ModelUpdated,
} from '@fedrec/protocol';
import { growModel, numItemsOf } from './catalogue-growth.js';
import type { EmitCoordinatorEvent } from './events.js';
import type { ResolvedOptions } from './options.js';
import { Catalogue } from './catalogue.js';
import type { CoordinatorState, ModelSnapshot } from './state.js';

export interface CatalogueKeeperDeps {
  options: Pick<ResolvedOptions, 'rounds' | 'strategy' | 'logger'>;
  state: CoordinatorState;
  /** Runs the change between rounds (RoundEngine.betweenRounds). */
  betweenRounds<T>(work: () => Promise<T>): Promise<T>;
  /** Checkpoints the grown model and its catalogue together (fsynced) before anything serves them. */
  persist(snapshot: ModelSnapshot, catalogue: Catalogue): Promise<void>;
  announce(update: ModelUpdated): void;
  emit: EmitCoordinatorEvent;
}

/**
 * Grows the catalogue of a running coordinator: between rounds, appends the items, grows every
 * rowwise item table (catalogue-growth.ts), the spec's numItems and the strategy's state, commits the
 * result as a new model version, checkpoints it and announces it. A client that trained on the older
 * version is refused as WRONG_ROUND like any late update (rounds never span a growth) and gets the new
 * model with its next task.
 */
export class CatalogueKeeper {
  constructor(private readonly deps: CatalogueKeeperDeps) {}

  /** Validated items (catalogueAddRequestSchema) in; the rows given out. Refusals change nothing. */
  async add(items: readonly CatalogueItem[]): Promise<CatalogueAddResult> {
    const { options: o, state } = this.deps;
    if (o.rounds !== 'continuous') throw new ProtocolError('CATALOGUE_CLOSED', 'the catalogue grows only in continuous mode (rounds: continuous)');
    if (numItemsOf(state.modelSpec) === undefined) {
      throw new ProtocolError('CATALOGUE_CLOSED', `model ${state.modelSpec.name} has no numItems option: it has no item rows to grow`);
    }
    state.catalogue.checkNew(items); // early answer; checked again in turn, against concurrent additions
    return this.deps.betweenRounds(async () => {
      const catalogue = state.catalogue;
      catalogue.checkNew(items);
      const before = state.global.manifest;
      const grown = growModel(state.global, state.modelSpec, catalogue.all(), items, { seed: catalogue.catalogueVersion + 1 });
      if (sameSharedLayout(before, grown.weights.manifest)) throw new ProtocolError('CATALOGUE_CLOSED', 'the model has no rowwise item table to grow');
      // Clients refuse a manifest with a tensor over MAX_TENSOR_ELEMENTS: never announce one.
      const huge = grown.weights.manifest.tensors.find((t) => tensorSize(t) > MAX_TENSOR_ELEMENTS);
      if (huge) throw new ProtocolError('TOO_LARGE', `${items.length} more items would make ${huge.name} larger than ${MAX_TENSOR_ELEMENTS} floats`);
      // Durable before served: the grown model, its catalogue and the grown strategy state are
      // checkpointed first; a failed checkpoint changes nothing and the addition is refused.
      const strategyBefore = o.strategy.saveState?.(before);
      o.strategy.growRows?.(before, grown.weights.manifest);
      const next = Catalogue.restore(catalogue.toJSON());
      const added = next.append(items);
      const { history, nextRoundId } = state;
      const modelVersion = state.modelVersion + 1;
      try {
        await this.deps.persist({ global: grown.weights, modelSpec: grown.modelSpec, modelVersion, nextRoundId, history }, next);
      } catch (err) {
        if (strategyBefore) o.strategy.loadState?.(before, strategyBefore);
        o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'checkpoint after catalogue growth failed; the catalogue did not grow');
        this.deps.emit('engine:error', err instanceof Error ? err : new Error(String(err)));
        throw new ProtocolError('INTERNAL', 'the grown model could not be checkpointed; nothing changed');
      }
      state.catalogue = next;
      state.global = grown.weights;
      state.modelSpec = grown.modelSpec;
      state.modelVersion = modelVersion;
      const result: CatalogueAddResult = {
        catalogueVersion: next.catalogueVersion,
        modelVersion: state.modelVersion,
        numItems: next.size,
        added: added.map(({ id, row }) => ({ id, row })),
      };
      o.logger.info(
        { added: added.length, numItems: next.size, catalogueVersion: result.catalogueVersion, modelVersion: result.modelVersion },
        'catalogue grew',
      );
      this.deps.announce({ modelVersion: state.modelVersion, roundId: Math.max(0, state.nextRoundId - 1), catalogueVersion: next.catalogueVersion });
      this.deps.emit('catalogue:grown', result);
      return result;
    });
  }
}
