import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { CoordinatorEvents, RoundRecord } from '@fedrec/coordinator';
import { createMetrics } from '@fedrec/coordinator/metrics.js';
import { subscribeRoundMetrics } from '@fedrec/coordinator/round-metrics.js';

function record(overrides: Partial<RoundRecord>): RoundRecord {
  return {
    roundId: 0,
    outcome: 'committed',
    baseModelVersion: 0,
    modelVersion: 1,
    startedAt: 0,
    endedAt: 1500,
    durationMs: 1500,
    selected: ['a', 'b', 'c'],
    participants: ['a', 'b'],
    failures: [{ clientId: 'c', taskId: 't', phase: 'fit', code: 'TIMEOUT', message: 'late' }],
    totalExamples: 2,
    fitMetrics: {},
    evaluation: null,
    abandonReason: null,
    ...overrides,
  };
}

describe('coordinator: round metrics follow the engine events', () => {
  it('counts commits, abandons, accepted updates, fit and evaluate failures and durations; stops when unsubscribed', async () => {
    const events = new EventEmitter<CoordinatorEvents>();
    const metrics = createMetrics();
    const unsubscribe = subscribeRoundMetrics(events, metrics);
    events.emit(
      'round:committed',
      record({
        modelVersion: 7,
        evaluation: {
          modelVersion: 7,
          participants: ['a'],
          failures: [{ clientId: 'b', taskId: 'e', phase: 'evaluate', code: 'DISCONNECTED', message: 'gone' }],
          numExamples: 1,
          metrics: {},
        },
      }),
    );
    events.emit('round:abandoned', record({ outcome: 'abandoned', modelVersion: 7, participants: [], abandonReason: 'too few' }));
    unsubscribe();
    events.emit('round:committed', record({ modelVersion: 8 }));

    const text = await metrics.registry.metrics();
    assert.match(text, /^fedrec_rounds_committed_total 1$/m);
    assert.match(text, /^fedrec_rounds_abandoned_total 1$/m);
    assert.match(text, /^fedrec_model_version 7$/m);
    assert.match(text, /^fedrec_updates_accepted_total 2$/m);
    assert.match(text, /^fedrec_client_failures_total\{phase="fit",code="TIMEOUT"\} 2$/m);
    assert.match(text, /^fedrec_client_failures_total\{phase="evaluate",code="DISCONNECTED"\} 1$/m);
    assert.match(text, /^fedrec_round_duration_seconds_count\{outcome="committed"\} 1$/m);
    assert.match(text, /^fedrec_round_duration_seconds_count\{outcome="abandoned"\} 1$/m);
  });
});
