import type { TrainingConfig } from '@fedrec/protocol';
import { lrFactorOf } from './lr-schedule.js';
import type { ClientInstruction, ConfigureArgs, Strategy } from './strategy.js';

/** What the coordinator changes in each round's fit config (Flower's on_fit_config_fn, as data). */
export interface RoundConfigOptions {
  /** The client learning rate's schedule (lr-schedule.ts spec): round r's lr = base lr × factor(r). */
  clientLrSchedule?: string;
  /** FedProx's μ sent to every device (0 = plain local training). */
  proximalMu?: number;
}

/** The fit config of a round training on committed model version `modelVersion` (the schedule's step), from the base one. */
export function roundConfig(base: TrainingConfig, modelVersion: number, o: RoundConfigOptions, factor = lrFactorOf(o.clientLrSchedule)): TrainingConfig {
  const config: TrainingConfig = { ...base, learningRate: base.learningRate * factor(modelVersion) };
  if (o.proximalMu !== undefined && o.proximalMu > 0) config.proximalMu = o.proximalMu;
  return config;
}

/**
 * `strategy` with its fit instructions' configs rewritten per round: the client lr from its schedule
 * and FedProx's μ. So a schedule is round config the coordinator sends, and every device (real or
 * simulated) trains with the same lr in the same round. Every other hook is the strategy's own.
 */
export function withRoundConfig(strategy: Strategy, o: RoundConfigOptions): Strategy {
  if (o.clientLrSchedule === undefined && !(o.proximalMu && o.proximalMu > 0)) return strategy;
  const factor = lrFactorOf(o.clientLrSchedule);
  const wrapped: Strategy = {
    name: strategy.name,
    configureFit: async (args: ConfigureArgs): Promise<ClientInstruction[]> =>
      (await strategy.configureFit(args)).map((i) => ({ ...i, config: roundConfig(i.config, args.modelVersion, o, factor) })),
    aggregateFit: (roundId, global, sums, failures) => strategy.aggregateFit(roundId, global, sums, failures),
    configureEvaluate: (args) => strategy.configureEvaluate(args),
    aggregateEvaluate: (roundId, results, failures) => strategy.aggregateEvaluate(roundId, results, failures),
  };
  // Optional hooks stay optional: their presence changes what the coordinator does (e.g. aggregateUpdates).
  if (strategy.initialize) wrapped.initialize = (initial) => strategy.initialize!(initial);
  if (strategy.aggregateUpdates)
    wrapped.aggregateUpdates = (roundId, global, updates, failures) => strategy.aggregateUpdates!(roundId, global, updates, failures);
  if (strategy.saveState) wrapped.saveState = (manifest) => strategy.saveState!(manifest);
  if (strategy.loadState) wrapped.loadState = (manifest, state) => strategy.loadState!(manifest, state);
  if (strategy.growRows) wrapped.growRows = (from, to) => strategy.growRows!(from, to);
  return wrapped;
}
