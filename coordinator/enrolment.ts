import { verifyEnrolment } from '@fedrec/protocol';

/**
 * Enrolment mode: the coordinator admits only devices the app vouches for, either because their key
 * is on the operator's allowed list or because the app's backend signed an enrolment token for
 * (client id, key) with the ed25519 key the coordinator trusts. Without either, every device is admitted
 * (and bound on first use).
 */
export class EnrolmentPolicy {
  private readonly allowed: ReadonlySet<string> | undefined;

  constructor(
    allowedKeys: readonly string[] | undefined,
    private readonly enrolmentKey: string | undefined,
  ) {
    this.allowed = allowedKeys ? new Set(allowedKeys.map((k) => k.toLowerCase())) : undefined;
  }

  get enabled(): boolean {
    return this.allowed !== undefined || this.enrolmentKey !== undefined;
  }

  admits(clientId: string, publicKey: string, token: string | undefined): boolean {
    if (!this.enabled) return true;
    if (this.allowed?.has(publicKey)) return true;
    return this.enrolmentKey !== undefined && token !== undefined && verifyEnrolment(this.enrolmentKey, token, clientId, publicKey);
  }
}

/** Parses an allowed-keys file: one hex ed25519 public key per line; blank lines and # comments ignored. */
export function parseAllowedKeys(text: string): string[] {
  const keys: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    if (!/^[0-9a-fA-F]{64}$/.test(line)) throw new Error(`allowed keys, line ${i + 1}: expected 64 hex digits (an ed25519 public key)`);
    keys.push(line.toLowerCase());
  }
  return keys;
}
