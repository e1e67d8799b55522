import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { bytesToUint32 } from './bytes.js';
import { runInMemoryRound } from './index.js';
import { type MaskedInput } from '@fedrec/protocol';
import { config, ids, seededUniform } from './testing/helpers.js';
import { BIT_CHI_LIMIT, BYTE_CHI_LIMIT, bitChiSquare, byteChiSquare } from './testing/uniformity.js';

/**
 * Runs fn with tweetnacl's randomness (keys, self-mask seeds, graph seed) seeded, then restores a CSPRNG.
 * The restored one must take any length: later test files in the same mocha worker draw megabytes at once
 * (webcrypto's getRandomValues refuses more than 65,536 bytes a call).
 */
async function withSeededNacl<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const rand = seededUniform(seed);
  nacl.setPRNG((x, n) => {
    for (let i = 0; i < n; i++) x[i] = Math.floor(rand() * 256);
  });
  try {
    return await fn();
  } finally {
    nacl.setPRNG((x, n) => void randomFillSync(x, 0, n));
  }
}

const WORDS = 50_000;

/** Client 0's masked vector in a 6-client SecAgg round where it contributes `input`. */
async function maskedVectorOf(input: Uint32Array, seed: number): Promise<Uint32Array> {
  const clients = ids(6);
  const inputs = new Map(clients.map((id) => [id, id === clients[0] ? input : new Uint32Array(WORDS)]));
  let captured: MaskedInput | null = null;
  await withSeededNacl(seed, () =>
    runInMemoryRound({
      roundId: 1,
      config: config({ mode: 'secagg' }),
      inputs,
      observer: { clientStep: (id, stage, _ms, sent) => void (id === clients[0] && stage === 'masked-input' && (captured = sent as MaskedInput)) },
    }),
  );
  assert.ok(captured);
  return bytesToUint32((captured as MaskedInput).masked);
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0,
    mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma,
      y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('secagg masked vectors look uniformly random', () => {
  it('a masked all-zero vector and a masked constant vector both pass byte and bit χ² tests (and the raw inputs fail them)', async () => {
    const zeros = new Uint32Array(WORDS);
    const constant = new Uint32Array(WORDS).fill(0x0001_2345);
    for (const [name, input, seed] of [
      ['zeros', zeros, 1],
      ['constant', constant, 2],
    ] as const) {
      const masked = await maskedVectorOf(input, seed);
      const byteChi = byteChiSquare(masked);
      const bitChi = bitChiSquare(masked);
      assert.ok(byteChi < BYTE_CHI_LIMIT, `${name}: byte χ² ${byteChi.toFixed(1)}`);
      assert.ok(bitChi < BIT_CHI_LIMIT, `${name}: bit χ² ${bitChi.toFixed(1)}`);
      assert.ok(byteChiSquare(input) > 10 * BYTE_CHI_LIMIT, `${name}: the test can tell an unmasked input`);
    }
  });

  it('the masked vector is uncorrelated with a structured input', async () => {
    const rand = seededUniform(3);
    // A ramp plus noise, as signed fixed-point: strongly structured.
    const signed = Array.from({ length: WORDS }, (_, i) => Math.round((i / WORDS - 0.5) * 2 ** 20 + rand() * 1000));
    const input = Uint32Array.from(signed, (x) => x >>> 0);
    const masked = await maskedVectorOf(input, 4);
    const r = correlation(
      signed,
      Array.from(masked, (w) => w | 0),
    );
    assert.ok(Math.abs(r) < 4.5 / Math.sqrt(WORDS), `correlation ${r}`);
    assert.ok(bitChiSquare(masked) < BIT_CHI_LIMIT);
    assert.ok(
      Math.abs(
        correlation(
          signed,
          signed.map((x, i) => x + (i % 7)),
        ),
      ) > 0.99,
      'the statistic sees a correlation when there is one',
    );
  });
});
