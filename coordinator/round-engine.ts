import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { allFinite, EnvelopeOpener, trainingConfigSchema } from '@fedrec/protocol';
import type { KeyPair, ModelUpdated, Weights } from '@fedrec/protocol';
import type { ClientRegistry } from './client-registry.js';
import type { EmitCoordinatorEvent } from './events.js';
import { runEvaluatePhase } from './evaluate-phase.js';
import type { FitAssignment, FitCollection } from './fit-collector.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import { resolveSampleSize } from './options.js';
import type { ResolvedOptions } from './options.js';
import type { EvaluationRecord, RoundRecord } from './round-record.js';
import { sleep } from './sleep.js';
import type { CoordinatorState } from './state.js';
import type { ClientInstruction, ConfigureArgs } from './strategy/strategy.js';

export interface RoundEngineDeps {
  options: ResolvedOptions;
  state: CoordinatorState;
  registry: ClientRegistry;
  keyPair: KeyPair;
  emit: EmitCoordinatorEvent;
  /** Writes a checkpoint of the state (after a commit, before it is announced). */
  persist(): Promise<void>;
  /** Tells connected clients about the new model. */
  announce(update: ModelUpdated): void;
  logger: Logger;
}

type RoundOutcome = 'committed' | 'abandoned' | 'stopped';

/**
 * The round loop: wait for clients → strategy selects → collector gathers results and
 * failures until the deadline → commit when enough results were accepted, else abandon
 * (model unchanged) and retry after a pause. Nothing thrown inside a round escapes the loop.
 */
export class RoundEngine {
  private readonly abort = new AbortController();
  private readonly opener: EnvelopeOpener;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: RoundEngineDeps) {
    // Every in-flight request to a client listens for the stop signal: hundreds at once is normal.
    setMaxListeners(0, this.abort.signal);
    this.opener = new EnvelopeOpener(deps.keyPair.secretKey);
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => this.deps.logger.error(errorFields(err), 'round loop crashed'));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.deps.state.phase = 'stopped';
    this.deps.state.current = null;
  }

  private finished(): boolean {
    const { rounds } = this.deps.options;
    return rounds !== 'continuous' && this.deps.state.modelVersion >= rounds;
  }

  private async run(): Promise<void> {
    const { options: o, state, registry, logger } = this.deps;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (this.finished()) {
        state.phase = 'finished';
        logger.info({ modelVersion: state.modelVersion }, 'all rounds done');
        this.deps.emit('training:finished', { modelVersion: state.modelVersion });
        return;
      }
      let outcome: RoundOutcome;
      try {
        state.phase = 'waiting-for-clients';
        await registry.waitForCount(o.minClients, signal);
        if (signal.aborted) return;
        outcome = await this.runRound();
      } catch (err) {
        logger.error(errorFields(err), 'round failed unexpectedly');
        this.deps.emit('engine:error', err instanceof Error ? err : new Error(String(err)));
        outcome = 'abandoned';
      } finally {
        state.current = null;
      }
      if (outcome === 'abandoned') {
        state.phase = 'backoff';
        await sleep(o.retryDelayMs, signal);
      } else if (outcome === 'committed') {
        // Between rounds: neither fitting nor evaluating, and status (and the dashboard) says so.
        state.phase = 'idle';
        if (o.roundIntervalMs > 0) await sleep(o.roundIntervalMs, signal);
      }
    }
  }

  private async runRound(): Promise<RoundOutcome> {
    const { options: o, state } = this.deps;
    const signal = this.abort.signal;
    const roundId = state.nextRoundId++;
    const startedAt = Date.now();
    const base = { global: state.global, modelVersion: state.modelVersion };
    const assignments = this.assign(await o.strategy.configureFit(this.configureArgs(roundId)), 'fit', roundId);
    const deadline = startedAt + o.roundTimeoutMs;
    const selected = assignments.map((a) => a.clientId);
    state.current = { roundId, startedAt, deadline, selected };
    state.phase = 'fit';
    this.deps.logger.info({ roundId, modelVersion: base.modelVersion, selected: selected.length }, 'round started');
    this.deps.emit('round:started', { roundId, modelVersion: base.modelVersion, selected, deadline });

    const draft = { roundId, startedAt, selected, baseModelVersion: base.modelVersion };
    if (assignments.length < o.minResults) {
      return this.abandon(draft, emptyCollection(), `only ${assignments.length} clients selected, minResults is ${o.minResults}`);
    }
    const collection = await o.fitCollector.collect({
      roundId,
      modelVersion: base.modelVersion,
      global: base.global,
      modelSpec: state.modelSpec,
      deadline,
      assignments,
      keyPair: this.deps.keyPair,
      opener: this.opener,
      limits: { maxUpdateBytes: o.maxUpdateBytes, maxExamplesPerUpdate: o.maxExamplesPerUpdate },
      signal,
      logger: this.deps.logger.child({ roundId }),
    });
    if (signal.aborted) return 'stopped';
    if (collection.abandonReason !== undefined) return this.abandon(draft, collection, collection.abandonReason);
    if (collection.accepted.length < o.minResults) {
      return this.abandon(draft, collection, `only ${collection.accepted.length} results accepted, minResults is ${o.minResults}`);
    }

    let next: Weights;
    try {
      next = await o.strategy.aggregateFit(roundId, base.global, collection.sums, collection.failures);
      if (next.body.length !== base.global.body.length) throw new Error(`strategy returned ${next.body.length} floats, expected ${base.global.body.length}`);
      if (!allFinite(next.body)) throw new Error('strategy produced non-finite weights');
    } catch (err) {
      this.deps.logger.error({ roundId, ...errorFields(err) }, 'aggregation failed');
      return this.abandon(draft, collection, `aggregation failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    state.global = next;
    state.modelVersion = base.modelVersion + 1;

    const evaluation = await this.maybeEvaluate(roundId);
    if (signal.aborted) return 'stopped';
    const record = this.record(draft, collection, 'committed', null, evaluation);
    try {
      await this.deps.persist();
    } catch (err) {
      this.deps.logger.error({ roundId, ...errorFields(err) }, 'checkpoint failed; the model stays committed in memory');
      this.deps.emit('engine:error', err instanceof Error ? err : new Error(String(err)));
    }
    this.deps.announce({ modelVersion: state.modelVersion, roundId });
    state.roundsCommitted += 1;
    this.deps.logger.info(
      { roundId, modelVersion: state.modelVersion, accepted: record.participants.length, failures: record.failures.length, durationMs: record.durationMs },
      'round committed',
    );
    this.deps.emit('round:committed', record);
    return 'committed';
  }

  /** Turns the strategy's instructions into tasks for connected, distinct clients with valid configs. */
  private assign(instructions: ClientInstruction[], phase: 'fit' | 'evaluate', roundId: number): FitAssignment[] {
    const seen = new Set<string>();
    const out: FitAssignment[] = [];
    for (const { clientId, config } of instructions) {
      const socket = this.deps.registry.get(clientId);
      if (!socket || seen.has(clientId)) {
        this.deps.logger.warn({ roundId, clientId }, 'strategy chose an unknown or repeated client; skipped');
        continue;
      }
      seen.add(clientId);
      out.push({ clientId, socket, config: trainingConfigSchema.parse(config), taskId: `${phase}-${roundId}-${randomBytes(6).toString('hex')}` });
    }
    return out;
  }

  /** What the strategy chooses from: the current model and the clients connected now. */
  private configureArgs(roundId: number): ConfigureArgs {
    const { options: o, state, registry } = this.deps;
    const clients = registry.list();
    return {
      roundId,
      modelVersion: state.modelVersion,
      global: state.global,
      clients,
      sampleSize: resolveSampleSize(o.clientsPerRound, clients.length),
      config: o.trainingConfig,
    };
  }

  private async maybeEvaluate(roundId: number): Promise<EvaluationRecord | null> {
    const { options: o, state } = this.deps;
    // Every k-th version, and always the final one of a fixed run, so a run ends with its quality known.
    const final = o.rounds !== 'continuous' && state.modelVersion >= o.rounds;
    if (o.evaluateEvery === 0 || (state.modelVersion % o.evaluateEvery !== 0 && !final)) return null;
    state.phase = 'evaluate';
    try {
      const assignments = this.assign(await o.strategy.configureEvaluate(this.configureArgs(roundId)), 'evaluate', roundId);
      return await runEvaluatePhase({
        roundId,
        modelVersion: state.modelVersion,
        global: state.global,
        modelSpec: state.modelSpec,
        deadline: Date.now() + o.roundTimeoutMs,
        assignments,
        strategy: o.strategy,
        signal: this.abort.signal,
      });
    } catch (err) {
      this.deps.logger.error({ roundId, ...errorFields(err) }, 'evaluation failed; the round still commits');
      return null;
    }
  }

  private abandon(draft: Draft, collection: FitCollection, reason: string): RoundOutcome {
    const record = this.record(draft, collection, 'abandoned', reason, null);
    this.deps.state.roundsAbandoned += 1;
    this.deps.logger.warn({ roundId: draft.roundId, reason, failures: record.failures.length }, 'round abandoned; model unchanged');
    this.deps.emit('round:abandoned', record);
    return 'abandoned';
  }

  private record(
    draft: Draft,
    collection: FitCollection,
    outcome: RoundRecord['outcome'],
    reason: string | null,
    evaluation: EvaluationRecord | null,
  ): RoundRecord {
    const { state, options: o } = this.deps;
    const endedAt = Date.now();
    const record: RoundRecord = {
      roundId: draft.roundId,
      outcome,
      baseModelVersion: draft.baseModelVersion,
      modelVersion: outcome === 'committed' ? state.modelVersion : draft.baseModelVersion,
      startedAt: draft.startedAt,
      endedAt,
      durationMs: endedAt - draft.startedAt,
      selected: draft.selected,
      participants: collection.accepted,
      failures: collection.failures,
      totalExamples: collection.sums.weightSum,
      fitMetrics: collection.metrics,
      evaluation,
      abandonReason: reason,
    };
    state.history.push(record);
    if (state.history.length > o.historyLimit) state.history.splice(0, state.history.length - o.historyLimit);
    return record;
  }
}

interface Draft {
  roundId: number;
  startedAt: number;
  selected: string[];
  baseModelVersion: number;
}

function emptyCollection(): FitCollection {
  return {
    sums: { weightedDeltaSum: new Float64Array(0), weightSum: 0, rowWeightSums: new Float64Array(0), contributors: 0 },
    accepted: [],
    failures: [],
    metrics: {},
  };
}
