// The update worker's per-update path (open, decode, validate) with the dense float32 delta copied out of the
// plaintext (before) or viewed in it (after: decodeUpdatePayload's `adopt`), for bench/coordinator.ts. Blocks of
// updates alternate between the two in one process, so both see the same machine; per update it reports the
// wall time, the process CPU time (the main thread plus V8's GC helper threads), the GC pauses the main thread
// saw (PerformanceObserver 'gc') and the bytes allocated outside the V8 heap (ArrayBuffers).
import { PerformanceObserver } from 'node:perf_hooks';
import { EnvelopeOpener, EnvelopeSealer, decodeUpdatePayload, encodeUpdatePayload, generateKeyPair, type WeightManifest } from '@fedrec/protocol';
import { checkUpdatePadding } from '@fedrec/protocol';
import { validateUpdate } from '@fedrec/coordinator/update-validation.js';

export interface DecodeCopyRow {
  name: string;
  wallMs: number;
  cpuMs: number;
  gcPauseMs: number;
  gcCount: number;
  externalKB: number;
}

export async function measureDecodeCopy(params: number, perBlock: number, rounds: number): Promise<DecodeCopyRow[]> {
  const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [params], dtype: 'float32', shared: true }] };
  const coordinator = generateKeyPair();
  const sealer = new EnvelopeSealer(coordinator.publicKey);
  const opener = new EnvelopeOpener(coordinator.secretKey);
  const limits = { maxUpdateBytes: params * 4 + 4096, maxExamplesPerUpdate: 1e6, maxMetricKeys: 16, compression: 'none' as const };
  const delta = Float32Array.from({ length: params }, (_, i) => ((i % 97) - 48) / 4096);
  const plaintext = encodeUpdatePayload({ numExamples: 10, metrics: { loss: 0.5 }, delta }, manifest);
  const binding = { roundId: 1, clientId: 'c', taskId: 't', modelVersion: 0 };
  // Sealed once per block slot: opening each is what a worker does per update (the ciphertext is read, not consumed).
  const envelopes = await Promise.all(Array.from({ length: 8 }, () => sealer.seal(plaintext, binding)));

  let gcMs = 0;
  let gcCount = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCount += 1;
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  const rows = [
    { name: 'copy (before)', adopt: false, wall: [] as number[], cpu: [] as number[], gc: [] as number[], count: [] as number[], ext: [] as number[] },
    { name: 'view (after)', adopt: true, wall: [] as number[], cpu: [] as number[], gc: [] as number[], count: [] as number[], ext: [] as number[] },
  ];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    for (const row of r % 2 === 0 ? rows : [...rows].reverse()) {
      // Let the previous block's garbage be collected outside this block's timing.
      await new Promise((resolve) => setImmediate(resolve));
      const gcBefore = gcMs;
      const countBefore = gcCount;
      const extBefore = process.memoryUsage().arrayBuffers;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let peakExt = 0;
      for (let i = 0; i < perBlock; i++) {
        const opened = await opener.open(envelopes[i % envelopes.length]!, binding);
        checkUpdatePadding(opened, manifest, 'none');
        const payload = validateUpdate(decodeUpdatePayload(opened, manifest, 'none', row.adopt), manifest, limits);
        sink += payload.delta[i % params]!;
        if (i % 50 === 0) peakExt = Math.max(peakExt, process.memoryUsage().arrayBuffers - extBefore);
      }
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      // Pauses are reported after the fact: wait a tick for the observer.
      await new Promise((resolve) => setTimeout(resolve, 20));
      row.wall.push(wall / perBlock);
      row.cpu.push((cpu.user + cpu.system) / 1000 / perBlock);
      row.gc.push((gcMs - gcBefore) / perBlock);
      row.count.push(gcCount - countBefore);
      row.ext.push(peakExt / 1024);
    }
  }
  observer.disconnect();
  if (sink === 42) console.log('');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  return rows.map((r) => ({
    name: r.name,
    wallMs: median(r.wall),
    cpuMs: median(r.cpu),
    gcPauseMs: median(r.gc),
    gcCount: median(r.count),
    externalKB: median(r.ext),
  }));
}
