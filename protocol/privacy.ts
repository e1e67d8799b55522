import nacl from 'tweetnacl';
import { z } from 'zod';
import type { TrainingConfig } from './config.js';

/**
 * Client-level differential privacy (DP-FedAvg, McMahan et al. 2018): what both sides agree on. The
 * coordinator sends the device its part in the fit task's `config.extra` (keys below), so the wire schema
 * does not change; a device that finds them clips (and, under secure aggregation, adds its share of the
 * noise) before sealing or masking. See coordinator/privacy/ and client-sdk/privacy/.
 */

/** `config.extra` keys of a fit task under DP (numbers). */
export const DP_EXTRA_KEYS = {
  /** L2 bound on the whole update (after the weights are made 1: see privatizeUpdate). */
  clipNorm: 'dp.clipNorm',
  /** Std of the Gaussian noise this device adds to every element (0 = the coordinator adds it). */
  noiseStd: 'dp.noiseStd',
  /**
   * Adaptive clipping under secure aggregation: present when the device must put its clipping bit, b − 1/2 with
   * b = [‖Δ‖ ≤ clipNorm], plus N(0, clipBitStd²) (0: the coordinator noises the count) into the masked vector.
   */
  clipBitStd: 'dp.clipBitStd',
} as const;

/** The device's DP instructions for one fit. */
export interface DeviceDp {
  clipNorm: number;
  noiseStd: number;
  /** Set: the device masks its clipping bit too, with this noise std (DP_EXTRA_KEYS.clipBitStd). */
  clipBitStd?: number | undefined;
}

const deviceDpSchema = z.object({
  clipNorm: z.number().positive().finite(),
  noiseStd: z.number().min(0).finite(),
  clipBitStd: z.number().min(0).finite().optional(),
});

/** Reads the DP instructions from a task config; undefined when DP is off; throws on a malformed pair. */
export function deviceDpFromConfig(config: TrainingConfig): DeviceDp | undefined {
  const clip = config.extra[DP_EXTRA_KEYS.clipNorm];
  const std = config.extra[DP_EXTRA_KEYS.noiseStd];
  const bitStd = config.extra[DP_EXTRA_KEYS.clipBitStd];
  if (clip === undefined && std === undefined && bitStd === undefined) return undefined;
  const parsed = deviceDpSchema.safeParse({ clipNorm: clip, noiseStd: std ?? 0, ...(bitStd !== undefined ? { clipBitStd: bitStd } : {}) });
  if (!parsed.success) throw new RangeError(`invalid DP task settings: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** A task config carrying the device's DP instructions. */
export function withDeviceDp(config: TrainingConfig, dp: DeviceDp): TrainingConfig {
  return {
    ...config,
    extra: {
      ...config.extra,
      [DP_EXTRA_KEYS.clipNorm]: dp.clipNorm,
      [DP_EXTRA_KEYS.noiseStd]: dp.noiseStd,
      ...(dp.clipBitStd !== undefined ? { [DP_EXTRA_KEYS.clipBitStd]: dp.clipBitStd } : {}),
    },
  };
}

/** The L2 norm of a vector (double accumulation). */
export function l2NormOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** Scales `v` in place so its L2 norm is at most `bound`; returns the norm before. */
export function clipL2InPlace(v: Float32Array | Float64Array, bound: number): number {
  const norm = l2NormOf(v);
  if (norm > bound) {
    const scale = bound / norm;
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * scale;
  }
  return norm;
}

/** Uniform doubles in (0, 1] from a byte source (53 random bits each). */
export type ByteSource = (n: number) => Uint8Array;

/**
 * Adds N(0, std²) to every element of `into`, from a cryptographic byte source (tweetnacl's, which
 * uses the platform CSPRNG in Node and browsers): DP noise from Math.random would be predictable.
 * Box–Muller on 53-bit uniforms. (Floating-point DP attacks on the low bits, Mironov 2012, are not
 * addressed: the values are then rounded to float32 or quantized by secure aggregation.)
 */
export function addGaussianNoise(into: Float32Array | Float64Array, std: number, bytes: ByteSource = nacl.randomBytes): void {
  if (!(std > 0)) return;
  const chunk = 4096;
  for (let start = 0; start < into.length; start += chunk) {
    const n = Math.min(chunk, into.length - start);
    const pairs = Math.ceil(n / 2);
    const raw = bytes(pairs * 16);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let p = 0; p < pairs; p++) {
      const u1 = uniform(view, p * 16);
      const u2 = uniform(view, p * 16 + 8);
      const r = Math.sqrt(-2 * Math.log(u1)) * std;
      const i = start + 2 * p;
      into[i] = into[i]! + r * Math.cos(2 * Math.PI * u2);
      if (2 * p + 1 < n) into[i + 1] = into[i + 1]! + r * Math.sin(2 * Math.PI * u2);
    }
  }
}

function uniform(view: DataView, at: number): number {
  // 21 + 32 bits → a double in (0, 1]: never 0, so log(u) is finite.
  const hi = view.getUint32(at) >>> 11;
  const lo = view.getUint32(at + 4);
  return (hi * 4294967296 + lo + 1) / 9007199254740992;
}
