import { PROTOCOL_VERSION, fingerprint, toHex } from '@fedrec/protocol';
import type { KeyPair } from '@fedrec/protocol';
import type { ResolvedOptions } from './options.js';
import type { CoordinatorState } from './state.js';
import type { CoordinatorStatus } from './coordinator-status.js';
import type { PrivacyStatus } from './privacy/round-privacy.js';

/**
 * The key's fingerprint, computed once per key: it is a tweetnacl SHA-512 in JavaScript, and `/api/status`
 * is polled (the dashboard, load balancers) while rounds keep the event loop busy.
 */
const fingerprints = new WeakMap<Uint8Array, string>();
function keyFingerprint(publicKey: Uint8Array): string {
  let f = fingerprints.get(publicKey);
  if (f === undefined) fingerprints.set(publicKey, (f = fingerprint(publicKey)));
  return f;
}

export function coordinatorStatus(
  o: Pick<ResolvedOptions, 'rounds' | 'strategy' | 'fitCollector' | 'minClients' | 'minResults'>,
  state: CoordinatorState,
  live: {
    connectedClients: number;
    clientRuntimes: Record<string, number>;
    keyPair: KeyPair | undefined;
    startedAt: number | null;
    privacy?: PrivacyStatus | undefined;
  },
): CoordinatorStatus {
  return {
    protocolVersion: PROTOCOL_VERSION,
    phase: state.phase,
    modelVersion: state.modelVersion,
    modelSpec: state.modelSpec,
    nextRoundId: state.nextRoundId,
    currentRound: state.current,
    connectedClients: live.connectedClients,
    minClients: o.minClients,
    minResults: o.minResults,
    clientRuntimes: live.clientRuntimes,
    roundsCommitted: state.roundsCommitted,
    roundsAbandoned: state.roundsAbandoned,
    mode: o.rounds === 'continuous' ? 'continuous' : 'fixed',
    roundsTarget: o.rounds === 'continuous' ? null : o.rounds,
    strategy: o.strategy.name,
    collector: o.fitCollector.name,
    fingerprint: live.keyPair ? keyFingerprint(live.keyPair.publicKey) : null,
    publicKey: live.keyPair ? toHex(live.keyPair.publicKey) : null,
    startedAt: live.startedAt,
    ...(live.privacy ? { privacy: live.privacy } : {}),
  };
}
