import type { EventEmitter } from 'node:events';
import type { CoordinatorEvents } from './events.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { RoundRecord } from './round-record.js';

/**
 * Keeps the round metrics (rounds, model version, accepted updates, failures, durations) up to date from the
 * engine's events, so the engine only runs rounds. Subscribe it before anyone else: a listener that throws
 * stops the ones after it. Returns the unsubscribe.
 */
export function subscribeRoundMetrics(events: EventEmitter<CoordinatorEvents>, metrics: CoordinatorMetrics): () => void {
  const countFailures = (record: RoundRecord): void => {
    for (const f of [...record.failures, ...(record.evaluation?.failures ?? [])]) metrics.clientFailures.inc({ phase: f.phase, code: f.code });
  };
  const onCommitted = (record: RoundRecord): void => {
    countFailures(record);
    if (record.privacy) metrics.privacyEpsilon.set(record.privacy.epsilon);
    metrics.roundsCommitted.inc();
    metrics.modelVersion.set(record.modelVersion);
    metrics.updatesAccepted.inc(record.participants.length);
    metrics.roundDuration.observe({ outcome: 'committed' }, record.durationMs / 1000);
  };
  const onAbandoned = (record: RoundRecord): void => {
    countFailures(record);
    if (record.privacy) metrics.privacyEpsilon.set(record.privacy.epsilon);
    metrics.roundsAbandoned.inc();
    metrics.roundDuration.observe({ outcome: 'abandoned' }, record.durationMs / 1000);
  };
  events.on('round:committed', onCommitted);
  events.on('round:abandoned', onAbandoned);
  return () => {
    events.off('round:committed', onCommitted);
    events.off('round:abandoned', onAbandoned);
  };
}
