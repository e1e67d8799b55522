// Seal + open cost of one realistic ML-100K NeuMF update (one user's touched rows), dense vs sparse rows.
import { neumfModel } from '@fedrec/models/neumf.js';
import { decodeUpdatePayload, encodeUpdatePayload, EnvelopeOpener, EnvelopeSealer, generateKeyPair, open, seal, type UpdatePayload } from '@fedrec/protocol';
import { loadMovieLensFile, ML100K_PATH } from '@fedrec/recsys/data/files.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { existsSync } from 'node:fs';

const data = existsSync(ML100K_PATH) ? loadMovieLensFile() : generateSyntheticInteractions({ users: 943, items: 1682, interactionsPerUser: 106 });
const split = leaveOneOut(data, { seed: 42 });
const options = recsysModelOptions(split.numItems);
const global = neumfModel.initialWeights(options, 1);
const manifest = neumfModel.manifest(options);
const users = split.users.slice(0, 60);
const updates: UpdatePayload[] = [];
for (const user of users) {
  const outcome = await new RecsysTrainer({ data: user, engine: 'js' }).fit({
    roundId: 0,
    modelVersion: 0,
    config: recsysTrainingConfig(),
    modelSpec: { name: 'neumf', options },
    global,
  });
  updates.push({
    numExamples: outcome.numExamples,
    metrics: outcome.metrics,
    delta: outcome.delta,
    ...(outcome.rowWeights ? { rowWeights: outcome.rowWeights } : {}),
  });
}
const key = generateKeyPair();
const binding = { roundId: 0, clientId: 'c', taskId: 't', modelVersion: 0 };

/** Median seal+open time per update and sealed bytes, for one way of sealing. */
async function measure(label: string, sparse: boolean, session: boolean): Promise<{ ms: number; bytes: number }> {
  const sealer = new EnvelopeSealer(key.publicKey);
  const opener = new EnvelopeOpener(key.secretKey);
  const perUpdate: number[] = [];
  let bytes = 0;
  for (let rep = 0; rep < 3; rep++) {
    for (const u of updates) {
      const t0 = performance.now();
      const plaintext = encodeUpdatePayload(u, sparse ? manifest : undefined);
      const envelope = session ? await sealer.seal(plaintext, binding) : await seal(plaintext, binding, key.publicKey);
      decodeUpdatePayload(session ? await opener.open(envelope, binding) : await open(envelope, binding, key.secretKey), manifest);
      perUpdate.push(performance.now() - t0);
      if (rep === 0) bytes += envelope.ciphertext.byteLength;
    }
  }
  perUpdate.sort((a, b) => a - b);
  const ms = perUpdate[Math.floor(perUpdate.length / 2)]!;
  console.log(`${label.padEnd(34)} median seal+open ${ms.toFixed(2)} ms per update, ${(bytes / updates.length / 1024).toFixed(1)} KiB sealed`);
  return { ms, bytes };
}

console.log(`${users.length} users' first-round NeuMF updates (${existsSync(ML100K_PATH) ? 'MovieLens 100K' : 'synthetic stand-in'}), 3 passes`);
const before = await measure('dense, key agreed per message', false, false);
const sparseOnly = await measure('sparse rows, key agreed per message', true, false);
const after = await measure('sparse rows, key agreed per session', true, true);
console.log(`sparse rows alone: time ${(sparseOnly.ms / before.ms).toFixed(2)}x, bytes ${(sparseOnly.bytes / before.bytes).toFixed(2)}x`);
console.log(`sparse rows + session key: time ${(after.ms / before.ms).toFixed(2)}x, bytes ${(after.bytes / before.bytes).toFixed(2)}x`);
