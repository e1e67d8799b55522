import type { ModelSpec, TrainingConfig, WeightManifest, Weights } from '@fedrec/protocol';
import type { LayersEngine } from './layers-engine.js';
import type { RecommenderEngine } from './recommender-engine.js';

/**
 * What both sides need to know about a model, without tfjs: its tensors (shared and private)
 * and how to make fresh shared weights. Device engines build their graph from the same spec;
 * the coordinator only ever sees the manifest and the shared body.
 */
export interface ModelDefinition {
  name: string;
  /** Every tensor of the model for these options, shared and private, in a fixed order. */
  manifest(options: ModelSpec['options']): WeightManifest;
  /** Fresh shared weights, reproducible from the seed. */
  initialWeights(options: ModelSpec['options'], seed: number): Weights;
}

/** Any engine a device can train a model with; its kind says which SDK trainer drives it. */
export type DeviceEngine = LayersEngine | RecommenderEngine;

/**
 * One way to train a model on a device. The kind is known up front; the code loads on first
 * use, so looking up a definition (all a coordinator does) never loads tfjs.
 */
export type EngineLoader = { kind: 'layers'; load(): Promise<LayersEngine> } | { kind: 'recommender'; load(): Promise<RecommenderEngine> };

/** A registered model: its definition and its device engines by name (e.g. "js", "tfjs"); the first is the default. */
export interface ModelEntry {
  definition: ModelDefinition;
  engines: Record<string, EngineLoader>;
  /**
   * Client training settings where this model needs other values than its family's defaults (the seq
   * model's client lr, schedule and negatives); `simulate` (and so the quality bench) and `npm start`
   * apply them unless a flag sets the same setting.
   */
  trainingDefaults?: Partial<Pick<TrainingConfig, 'learningRate' | 'localEpochs' | 'batchSize'>> & {
    /** The client lr schedule the coordinator sends as round config (coordinator/strategy/lr-schedule.ts spec). */
    clientLrSchedule?: string;
    /** Sampled training negatives per positive, sent in each round's fit config as extra.negatives. */
    negatives?: number;
  };
}
