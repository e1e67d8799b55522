/**
 * The arithmetic floor of a SecAgg+ round on this machine: each primitive a stage repeats, timed alone and
 * interleaved in one process (process CPU time; median and quartiles of many rounds, since the machine is shared),
 * then multiplied out to what the slowest client and the coordinator cannot avoid at the bench's k and n.
 *   node --import tsx bench/secagg/stage-floor.ts [--words 100001] [--rounds 40]
 * Why: bench/secagg.ts reports whole stages; this says how much of each stage is the primitives themselves (the
 * (k+1) mask expansions a client must do, its k agreements, the coordinator's self-mask expansions and additions)
 * and so how far a stage can be cut without changing k, t or the cipher.
 */
import { createCipheriv } from 'node:crypto';
import { loadavg } from 'node:os';
import { Command } from 'commander';
import { addMask, agreeKey, combineSharesSync, generateKeyPair, splitSecret, WordSum } from '@fedrec/secagg';
import { processCpuMs } from './cpu-clock.js';

const opts = new Command()
  .option('--words <n>', 'vector length in uint32 words', '100001')
  .option('--rounds <n>', 'interleaved rounds', '40')
  .parse()
  .opts<{ words: string; rounds: string }>();
const words = Number(opts.words);
const seeds = Array.from({ length: 8 }, (_, i) => new Uint8Array(32).fill(i + 1));
const zeros = new Uint8Array(64 * 1024);
const iv = new Uint8Array(16);
const jsSum = new WordSum(words, { portable: true });
const kernelSum = new WordSum(words);
const vector = new Uint8Array(4 * words).map((_, i) => (i * 131) & 255);
const jsTarget = new Int32Array(words);
const jsSource = new Int32Array(vector.buffer);
const me = generateKeyPair();
const peers = Array.from({ length: 8 }, () => generateKeyPair());
const secret = new Uint8Array(32).fill(9);
const shares = await splitSecret(secret, 73, 26);

/** Per call: each variant runs 8 times a round and reports ms per call. */
const variants: Array<[string, (i: number) => void]> = [
  [
    'AES-256-CTR keystream alone (node:crypto update, 64 KiB chunks, no add)',
    (i) => {
      const cipher = createCipheriv('aes-256-ctr', seeds[i]!, iv);
      for (let at = 0; at < 4 * words; at += zeros.length) cipher.update(zeros.subarray(0, Math.min(zeros.length, 4 * words - at)));
    },
  ],
  [
    'add one vector, JavaScript int32 loop',
    () => {
      for (let j = 0; j < words; j++) jsTarget[j] = (jsTarget[j]! + jsSource[j]!) | 0;
    },
  ],
  ['add one vector, WordSum kernel (copy into scratch + i32x4)', () => kernelSum.addBytes(vector, 1)],
  ['mask into a sum, JavaScript add (before)', (i) => addMask(jsSum, seeds[i]!, 1)],
  ['mask into a sum, kernel (shipped)', (i) => addMask(kernelSum, seeds[i]!, 1)],
  ['X25519 agreement + key derivation (node:crypto)', (i) => agreeKey('pairwise-mask', 1, 'a', 'b', me.secretKey, peers[i]!.publicKey)],
  ['Shamir reconstruction, t = 26 (32-byte seed)', () => combineSharesSync(shares, 26)],
];
const samples = variants.map(() => [] as number[]);
for (let r = 0; r < Number(opts.rounds) + 5; r++) {
  variants.forEach(([, f], v) => {
    const t = processCpuMs();
    for (let i = 0; i < 8; i++) f(i);
    if (r >= 5) samples[v]!.push((processCpuMs() - t) / 8); // the first 5 rounds warm the JIT
  });
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
const med = (v: number) => q(samples[v]!, 0.5);
console.log(`primitives at ${words} words, ms of process CPU per call (load ${loadavg()[0]!.toFixed(1)}):`);
console.table(
  Object.fromEntries(
    variants.map(([name], v) => [name, { p25: q(samples[v]!, 0.25).toFixed(3), median: med(v).toFixed(3), p75: q(samples[v]!, 0.75).toFixed(3) }]),
  ),
);
const mask = med(4);
const add = med(2);
const agree = med(5);
const combine = med(6);
const floors: Record<string, { ms: string; what: string }> = {};
for (const [n, k] of [
  [100, 66],
  [1000, 72],
] as const) {
  floors[`client receiveShares @ ${n} (k = ${k})`] = { ms: ((k + 1) * mask + k * agree).toFixed(1), what: `${k + 1} masks + ${k} agreements` };
  floors[`client correction @ ${n}, 30% of k dropped`] = { ms: (Math.round(0.3 * k) * mask).toFixed(1), what: `${Math.round(0.3 * k)} masks` };
  for (const dropout of [0, 0.3]) {
    const survivors = Math.round((1 - dropout) * n);
    const perSurvivor = mask + add * (dropout > 0 ? 2 : 1) + combine;
    floors[`coordinator masks @ ${n}, ${dropout * 100}% dropout`] = {
      ms: (survivors * perSurvivor).toFixed(1),
      what: `${survivors} × (self mask + input add${dropout > 0 ? ' + correction add' : ''} + reconstruction at t = 26) = ${perSurvivor.toFixed(3)} ms each`,
    };
  }
}
console.log('what a stage cannot go below on this machine (medians above, multiplied out):');
console.table(floors);
