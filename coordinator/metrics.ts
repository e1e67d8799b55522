import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics in a registry of their own, so several coordinators can share a process. */
export function createMetrics() {
  const registry = new Registry();
  const roundsCommitted = new Counter({
    name: 'fedrec_rounds_committed_total',
    help: 'Rounds whose aggregate became the new global model',
    registers: [registry],
  });
  const roundsAbandoned = new Counter({ name: 'fedrec_rounds_abandoned_total', help: 'Rounds abandoned with the model unchanged', registers: [registry] });
  const connectedClients = new Gauge({ name: 'fedrec_connected_clients', help: 'Clients connected right now', registers: [registry] });
  const modelVersion = new Gauge({ name: 'fedrec_model_version', help: 'Version of the current global model', registers: [registry] });
  const updatesAccepted = new Counter({ name: 'fedrec_updates_accepted_total', help: 'Fit results added to an aggregate', registers: [registry] });
  const clientFailures = new Counter({
    name: 'fedrec_client_failures_total',
    help: 'Selected clients that did not contribute, by phase and code (rejected updates, timeouts, disconnects, ...)',
    labelNames: ['phase', 'code'] as const,
    registers: [registry],
  });
  const roundDuration = new Histogram({
    name: 'fedrec_round_duration_seconds',
    help: 'Wall time of a round, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const privacyEpsilon = new Gauge({
    name: 'fedrec_privacy_epsilon',
    help: 'Differential privacy spent so far: epsilon at the configured delta (only under --privacy)',
    registers: [registry],
  });
  return { registry, privacyEpsilon, roundsCommitted, roundsAbandoned, connectedClients, modelVersion, updatesAccepted, clientFailures, roundDuration };
}

export type CoordinatorMetrics = ReturnType<typeof createMetrics>;
