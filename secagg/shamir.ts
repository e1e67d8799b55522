import { combine, split } from 'shamir-secret-sharing';
import { MAX_SHARES } from '@fedrec/protocol';

/**
 * t-of-m Shamir sharing over GF(2^8) by the audited `shamir-secret-sharing` package.
 * A share is the secret's length plus one byte (its x coordinate). GF(2^8) caps m at 255,
 * which is why full SecAgg is limited to 255 clients per round (SecAgg+ neighbourhoods are far smaller).
 */

export async function splitSecret(secret: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  if (shares > MAX_SHARES) throw new RangeError(`cannot split into ${shares} shares: GF(2^8) Shamir allows at most ${MAX_SHARES}`);
  return split(secret, shares, threshold);
}

/** Reconstructs from exactly `threshold` shares (more add cost, not information, when all are honest). */
export async function combineShares(shares: Uint8Array[], threshold: number): Promise<Uint8Array> {
  if (shares.length < threshold) throw new RangeError(`need ${threshold} shares, have ${shares.length}`);
  const xs = new Set(shares.map((s) => s[s.length - 1]));
  if (xs.size !== shares.length) throw new RangeError('duplicate share coordinates');
  // The library insists on plain Uint8Arrays (constructor check): shares parsed off the wire are Node Buffers.
  return combine(shares.slice(0, threshold).map((s) => Uint8Array.from(s)));
}
