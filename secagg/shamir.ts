import { split } from 'shamir-secret-sharing';
import { MAX_SHARES } from '@fedrec/protocol/secagg-sizes.js';

/**
 * t-of-m Shamir sharing over GF(2^8) (x⁸ + x⁴ + x³ + x + 1), in the format of the audited `shamir-secret-sharing`
 * package: a share is the secret's length in y bytes plus one byte, its x coordinate. Splitting (which draws the
 * randomness) is the package's. GF(2^8) caps m at 255, which is why full SecAgg is limited to 255 clients per
 * round (SecAgg+ neighbourhoods are far smaller).
 */

export async function splitSecret(secret: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  if (shares > MAX_SHARES) throw new RangeError(`cannot split into ${shares} shares: GF(2^8) Shamir allows at most ${MAX_SHARES}`);
  return split(secret, shares, threshold);
}

// log/exp tables of GF(2^8) mod 0x11b with generator 3 (any generator gives the same products).
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = x;
  EXP[i + 255] = x;
  LOG[x] = i;
  x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0); // x·3 = x·2 ⊕ x
}
const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!);
const div = (a: number, b: number): number => (a === 0 ? 0 : EXP[LOG[a]! + 255 - LOG[b]!]!);

/**
 * Reconstructs from the first `threshold` shares (more add cost, not information, when all are honest). Our own
 * interpolation rather than the package's combine: that one re-derives the Lagrange basis for every byte of the
 * secret (32·t² checked field operations a call), and the coordinator rebuilds one seed per survivor; here the t
 * basis values at 0 are computed once, then each byte is Σ y_i·L_i(0). Same field and share format, so the result
 * is identical (shamir.test.ts checks it against the package on random secrets and share subsets).
 */
export async function combineShares(shares: Uint8Array[], threshold: number): Promise<Uint8Array> {
  return Promise.resolve(combineSharesSync(shares, threshold));
}

/** combineShares without the promise: the server rebuilds a seed inside a synchronous accept. */
export function combineSharesSync(shares: Uint8Array[], threshold: number): Uint8Array {
  if (!(Number.isInteger(threshold) && threshold >= 2)) throw new RangeError(`threshold must be an integer ≥ 2, got ${threshold}`);
  if (shares.length < threshold) throw new RangeError(`need ${threshold} shares, have ${shares.length}`);
  const length = shares[0]!.length;
  if (length < 2 || shares.some((s) => s.length !== length)) throw new RangeError('shares must all have the same length of at least 2 bytes');
  const xs = shares.map((s) => s[length - 1]!);
  if (new Set(xs).size !== shares.length) throw new RangeError('duplicate share coordinates');
  if (xs.includes(0)) throw new RangeError('share coordinate 0 (the secret itself) is not a valid share');
  const used = shares.slice(0, threshold);
  // L_i(0) = Π_{j≠i} x_j / (x_i ⊕ x_j): in characteristic 2, 0 − x_j = x_j and x_i − x_j = x_i ⊕ x_j.
  const basis = used.map((_, i) => {
    let b = 1;
    for (let j = 0; j < used.length; j++) if (j !== i) b = mul(b, div(xs[j]!, xs[i]! ^ xs[j]!));
    return b;
  });
  const secret = new Uint8Array(length - 1);
  for (let i = 0; i < used.length; i++) {
    const share = used[i]!;
    const logBasis = LOG[basis[i]!]!;
    for (let k = 0; k < secret.length; k++) {
      const y = share[k]!;
      if (y !== 0) secret[k] = secret[k]! ^ EXP[LOG[y]! + logBasis]!;
    }
  }
  return secret;
}
