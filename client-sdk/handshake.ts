import {
  PROTOCOL_VERSION,
  challengeSchema,
  fingerprint,
  signHandshakeProof,
  welcomeSchema,
  type ParsedWelcome,
  type Proof,
  type SignKeyPair,
} from '@fedrec/protocol';
import { FederatedClientError } from './errors.js';

/** Validates a welcome and decides whether to trust this coordinator. Throws a coded error if not. */
export function checkWelcome(raw: unknown, pinnedFingerprint: string | undefined): ParsedWelcome {
  const parsed = welcomeSchema.safeParse(raw);
  if (!parsed.success) throw new FederatedClientError('INVALID_PAYLOAD', `malformed session:welcome: ${parsed.error.message}`);
  const welcome = parsed.data;
  if (welcome.protocolVersion !== PROTOCOL_VERSION) {
    throw new FederatedClientError(
      'PROTOCOL_VERSION_MISMATCH',
      `coordinator speaks protocol ${welcome.protocolVersion}, this client speaks ${PROTOCOL_VERSION}`,
    );
  }
  const actual = fingerprint(welcome.coordinatorPublicKey);
  if (actual !== welcome.fingerprint) {
    throw new FederatedClientError('FINGERPRINT_MISMATCH', `welcome claims fingerprint ${welcome.fingerprint} but its key hashes to ${actual}`);
  }
  if (pinnedFingerprint !== undefined && actual !== pinnedFingerprint) {
    throw new FederatedClientError(
      'FINGERPRINT_MISMATCH',
      `coordinator key fingerprint ${actual} differs from the pinned ${pinnedFingerprint}: refusing to send it anything`,
    );
  }
  return welcome;
}

/**
 * Validates the coordinator's challenge (the key it names must hash to the fingerprint, which must
 * match the pin) and signs it with the device key: nonce, client id, fingerprint and version.
 */
export function answerChallenge(raw: unknown, clientId: string, identity: SignKeyPair, pinnedFingerprint: string | undefined): Proof {
  const parsed = challengeSchema.safeParse(raw);
  if (!parsed.success) throw new FederatedClientError('INVALID_PAYLOAD', `malformed session:challenge: ${parsed.error.message}`);
  const c = parsed.data;
  if (c.protocolVersion !== PROTOCOL_VERSION) {
    throw new FederatedClientError('PROTOCOL_VERSION_MISMATCH', `coordinator speaks protocol ${c.protocolVersion}, this client speaks ${PROTOCOL_VERSION}`);
  }
  const actual = fingerprint(c.coordinatorPublicKey);
  if (actual !== c.fingerprint)
    throw new FederatedClientError('FINGERPRINT_MISMATCH', `challenge claims fingerprint ${c.fingerprint} but its key hashes to ${actual}`);
  if (pinnedFingerprint !== undefined && actual !== pinnedFingerprint) {
    throw new FederatedClientError(
      'FINGERPRINT_MISMATCH',
      `coordinator key fingerprint ${actual} differs from the pinned ${pinnedFingerprint}: refusing to prove anything to it`,
    );
  }
  return signHandshakeProof(identity.secretKey, { nonce: c.nonce, clientId, fingerprint: actual, protocolVersion: PROTOCOL_VERSION });
}
