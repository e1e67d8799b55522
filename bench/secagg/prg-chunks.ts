/**
 * Why the mask PRG streams 64 KiB chunks and adds on Int32Array views (secagg/prg.ts): one 100k-word mask added
 * into a vector, for keystream chunk sizes 16 / 64 / 256 KiB and the uint32 or int32 add loop, interleaved in one
 * process (process CPU time per mask; median and quartiles of many rounds, since the machine is shared).
 *   node --import tsx bench/secagg/prg-chunks.ts [--words 100001] [--rounds 60]
 * The shipped addMask (into a WordSum: secagg/word-sum.ts) is measured too, and must match the int32 / 64 KiB variant's result.
 */
import { createCipheriv } from 'node:crypto';
import { loadavg } from 'node:os';
import { Command } from 'commander';
import { addMask } from '@fedrec/secagg/prg.js';
import { WordSum } from '@fedrec/secagg/word-sum.js';
import { processCpuMs } from './cpu-clock.js';

const opts = new Command()
  .option('--words <n>', 'mask length in uint32 words', '100001')
  .option('--rounds <n>', 'interleaved rounds', '60')
  .parse()
  .opts<{ words: string; rounds: string }>();
const words = Number(opts.words);
const seeds = Array.from({ length: 8 }, (_, i) => new Uint8Array(32).fill(i + 1));
const iv = new Uint8Array(16);

function variant(chunkBytes: number, int32: boolean): (target: Uint32Array, seed: Uint8Array) => void {
  const zeros = new Uint8Array(chunkBytes);
  return (target, seed) => {
    const cipher = createCipheriv('aes-256-ctr', seed, iv);
    const out = new Int32Array(target.buffer, target.byteOffset, target.length);
    for (let start = 0; start < 4 * target.length; start += chunkBytes) {
      const bytes = Math.min(chunkBytes, 4 * target.length - start);
      let chunk: Uint8Array = cipher.update(zeros.subarray(0, bytes));
      if (chunk.byteOffset % 4 !== 0) chunk = Uint8Array.from(chunk);
      const base = start / 4;
      if (int32) {
        const w = new Int32Array(chunk.buffer, chunk.byteOffset, bytes / 4);
        for (let i = 0; i < w.length; i++) out[base + i] = (out[base + i]! + w[i]!) | 0;
      } else {
        const w = new Uint32Array(chunk.buffer, chunk.byteOffset, bytes / 4);
        for (let i = 0; i < w.length; i++) target[base + i] = target[base + i]! + w[i]!;
      }
    }
  };
}

const variants: Array<[string, (target: Uint32Array, seed: Uint8Array) => void]> = [
  ['16 KiB, uint32 add', variant(16 * 1024, false)],
  ['256 KiB, uint32 add (before)', variant(256 * 1024, false)],
  ['16 KiB, int32 add', variant(16 * 1024, true)],
  ['64 KiB, int32 add', variant(64 * 1024, true)],
  ['256 KiB, int32 add', variant(256 * 1024, true)],
  ['shipped addMask into a WordSum (64 KiB, WebAssembly i32x4)', (_t, s) => addMask(shipped, s, 1)],
];
/** The shipped path keeps its sum in a WordSum, as the client and server do (copied out once at the end to compare). */
const shipped = new WordSum(words);
const targets = variants.map(() => new Uint32Array(words));
const samples = variants.map(() => [] as number[]);
for (let r = 0; r < Number(opts.rounds) + 5; r++) {
  variants.forEach(([, f], v) => {
    const t = processCpuMs();
    for (const seed of seeds) f(targets[v]!, seed);
    if (r >= 5) samples[v]!.push((processCpuMs() - t) / seeds.length); // the first 5 rounds warm the JIT
  });
}
const ref = targets[3]!;
const shippedWords = shipped.toUint32Array();
if (!shippedWords.every((x, i) => x === ref[i])) throw new Error('shipped addMask differs from the 64 KiB int32 variant');
if (!targets[0]!.every((x, i) => x === ref[i])) throw new Error('uint32 and int32 adds differ');
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
console.log(`one ${words}-word AES-256-CTR mask added into a vector, ms of process CPU (load ${loadavg()[0]!.toFixed(1)}):`);
console.table(
  Object.fromEntries(
    variants.map(([name], v) => [name, { p25: q(samples[v]!, 0.25).toFixed(3), median: q(samples[v]!, 0.5).toFixed(3), p75: q(samples[v]!, 0.75).toFixed(3) }]),
  ),
);
