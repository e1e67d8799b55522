import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinator, type RoundRecord } from '@fedrec/coordinator';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { memoryPrivateStore, RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import {
  decodeEvaluateMetrics,
  decodeUpdatePayload,
  EnvelopeOpener,
  evaluateBinding,
  rowLayout,
  unpack,
  type SealedEnvelope,
  type Weights,
} from '@fedrec/protocol';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { leaveOneOut, type UserData } from '@fedrec/recsys/split.js';
import { contributionLayout } from '@fedrec/secagg';
import { attackFigures, spearman, type AttackFigures } from './attack-metrics.js';
import { curiousCoordinator, type CapturedReply } from './curious-coordinator.js';

export type AttackMode = 'off' | 'secagg' | 'secagg+';

export interface PrivacyAttackOptions {
  mode: AttackMode;
  /** The population: synthetic users (default) or given users (e.g. ML-100K's split). */
  users?: UserData[];
  synthetic?: { users: number; items: number; interactionsPerUser: number };
  rounds: number;
  /** Devices per round ('all' as `npm start`; a count makes cohorts differ between rounds). */
  clientsPerRound?: number | 'all';
  seed?: number;
}

/** What the curious coordinator got out of one run. */
export interface PrivacyAttackResult {
  mode: AttackMode;
  users: number;
  items: number;
  roundsCommitted: number;
  /** From one device's first update alone: touched rows and gradient magnitudes (plain), the masked vector (secagg). */
  singleUpdate: AttackFigures;
  /** Over all rounds: rows touched in every round (plain: the intersection attack); model changes in the rounds a device was in (every mode). */
  acrossRounds: AttackFigures;
  /** Upload sizes of the first round's fit replies: how many differ, and their rank correlation with a device's item count. */
  sizes: { distinct: number; minBytes: number; maxBytes: number; spearmanWithItems: number };
  /** Evaluation replies that carried per-device metrics in clear on the wire (anyone on the path reads them). */
  evaluationRepliesInClear: number;
  /** Evaluation replies whose per-device metrics the coordinator itself could read (in clear, or sealed to its key: plain mode). */
  evaluationRepliesCoordinatorReads: number;
  evaluationReplies: number;
  /** The last evaluation the coordinator recorded (under secure aggregation: the unmasked weighted means). */
  lastEvaluation: Record<string, number> | null;
  wallClockMs: number;
}

interface ItemTables {
  /** Words of a masked fit contribution. */
  fitWords: number;
  /** Per rowwise tensor: its offset and columns in the shared body, its offset among row weights. */
  tables: Array<{ offset: number; cols: number; rowWeightOffset: number }>;
  numItems: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Plays the curious coordinator of `npm start` with real SDK devices over Socket.IO on loopback: it records every
 * reply the devices send (curious-coordinator.ts), opens plain updates with its own key, keeps the model after each
 * round and who was in it, and scores every (user, item) pair.
 */
export async function runPrivacyAttack(o: PrivacyAttackOptions): Promise<PrivacyAttackResult> {
  const seed = o.seed ?? 7;
  const syn = o.synthetic ?? { users: 40, items: 200, interactionsPerUser: 20 };
  const users = o.users ?? leaveOneOut(generateSyntheticInteractions({ ...syn, seed }), { seed }).users;
  const numItems = users[0]!.numItems;
  const modelOptions = recsysModelOptions(numItems);
  const manifest = neumfModel.manifest(modelOptions);
  const layout = rowLayout(manifest);
  const items: ItemTables = { tables: layout.tables, numItems, fitWords: contributionLayout(manifest).vectorLength };
  const dir = await mkdtemp(join(tmpdir(), 'fedrec-curious-'));
  const curious = curiousCoordinator();
  const started = Date.now();
  const coordinator = createCoordinator({
    port: 0,
    host: '127.0.0.1',
    minClients: users.length,
    clientsPerRound: o.clientsPerRound ?? 'all',
    minResults: 3,
    rounds: o.rounds,
    evaluateEvery: 1,
    roundTimeoutMs: 600_000,
    pingTimeoutMs: 600_000,
    keyFile: join(dir, 'key.json'),
    modelSpec: { name: 'neumf', options: modelOptions },
    initialWeights: neumfModel.initialWeights(modelOptions, seed),
    trainingConfig: recsysTrainingConfig(),
    secureAggregation: o.mode,
    // Every device answers, so a stage closes as soon as all have; long deadlines only spare a loaded machine.
    ...(o.mode !== 'off' ? { secAgg: { advertiseTimeoutMs: 120_000, shareKeysTimeoutMs: 120_000, unmaskTimeoutMs: 120_000 } } : {}),
    extensions: [curious.extension],
    maxConnectionsPerAddress: 0,
    maxHandshakesPerSecond: 0,
  });
  const models: Array<{ delta: Float32Array; participants: string[] }> = [];
  let previous: Weights | null = null;
  const committed: RoundRecord[] = [];
  coordinator.on('round:committed', (record) => {
    const weights = coordinator.currentWeights();
    if (previous) models.push({ delta: weights.body.map((x, j) => x - previous!.body[j]!), participants: record.participants });
    previous = weights;
    committed.push(record);
  });
  const clients: FederatedClient[] = [];
  try {
    const finished = new Promise<void>((resolve) => coordinator.once('training:finished', () => resolve()));
    const { url } = await coordinator.start();
    previous = coordinator.currentWeights();
    for (const [i, user] of users.entries()) {
      const trainer = new RecsysTrainer({ data: user, engine: 'js', store: memoryPrivateStore(), seed: seed + i });
      const client = createFederatedClient({ url, clientId: `user-${user.user}`, trainer, backend: false });
      clients.push(client);
      await client.connect();
    }
    await finished;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await coordinator.stop();
  }
  const key = JSON.parse(await readFile(join(dir, 'key.json'), 'utf8')) as { secretKey: string };
  await rm(dir, { recursive: true, force: true });
  const opener = new EnvelopeOpener(new Uint8Array(Buffer.from(key.secretKey, 'base64')), users.length);
  const index = new Map(users.map((u, i) => [`user-${u.user}`, i]));

  // Per device, in arrival order: its fit replies (sealed updates, or masked vectors) and evaluation replies.
  const updates = users.map(() => [] as Array<{ scores: Float64Array; touched: Uint8Array; bytes: number }>);
  let evaluationReplies = 0;
  let evaluationRepliesInClear = 0;
  let evaluationRepliesCoordinatorReads = 0;
  for (const reply of curious.replies) {
    const u = index.get(reply.clientId);
    if (u === undefined) continue;
    const seen = await readReply(reply, opener, manifest, items);
    if (seen?.kind === 'update') updates[u]!.push({ scores: seen.scores, touched: seen.touched, bytes: reply.bytes });
    if (seen?.kind === 'evaluation') {
      evaluationReplies++;
      if (seen.inClear) evaluationRepliesInClear++;
      if (seen.coordinatorReads) evaluationRepliesCoordinatorReads++;
    }
  }
  const zero = () => new Float64Array(numItems);
  const single = users.map((_, u) => updates[u]![0]?.scores ?? zero());
  const across = users.map((user, u) => {
    const s = zero();
    // Plain: rows touched in every round of this device (its positives; negatives are resampled each round).
    for (const up of updates[u]!) for (let i = 0; i < numItems; i++) s[i]! += up.touched[i]!;
    // Any mode: how much each item row moved in the rounds this device was in, against the rounds it was not.
    const id = `user-${user.user}`;
    const inRounds = models.filter((m) => m.participants.includes(id));
    const outRounds = models.filter((m) => !m.participants.includes(id));
    if (inRounds.length > 0 && outRounds.length > 0) {
      const moved = (ms: typeof models) => {
        const acc = zero();
        for (const m of ms) {
          const r = rowNorms(m.delta, items);
          for (let i = 0; i < numItems; i++) acc[i]! += r[i]! / ms.length;
        }
        return acc;
      };
      const a = moved(inRounds);
      const b = moved(outRounds);
      for (let i = 0; i < numItems; i++) s[i]! += 1e-3 * (a[i]! - b[i]!);
    }
    return s;
  });
  const truth = users.map((u) => ({ trainItems: u.trainItems, testItem: u.testItem }));
  const firstSizes = updates.map((ups) => ups[0]?.bytes ?? 0).filter((b) => b > 0);
  const itemCounts = users.filter((_, u) => (updates[u]![0]?.bytes ?? 0) > 0).map((u) => u.trainItems.length);
  return {
    mode: o.mode,
    users: users.length,
    items: numItems,
    roundsCommitted: committed.length,
    singleUpdate: attackFigures(single, truth, numItems),
    acrossRounds: attackFigures(across, truth, numItems),
    sizes: {
      distinct: new Set(firstSizes).size,
      minBytes: Math.min(...firstSizes),
      maxBytes: Math.max(...firstSizes),
      spearmanWithItems: spearman(firstSizes, itemCounts),
    },
    evaluationReplies,
    evaluationRepliesInClear,
    evaluationRepliesCoordinatorReads,
    lastEvaluation: [...committed].reverse().find((r) => r.evaluation)?.evaluation?.metrics ?? null,
    wallClockMs: Date.now() - started,
  };
}

type Seen = { kind: 'update'; scores: Float64Array; touched: Uint8Array } | { kind: 'evaluation'; inClear: boolean; coordinatorReads: boolean } | null;

/** What one reply tells the coordinator about the items its sender touched. */
async function readReply(reply: CapturedReply, opener: EnvelopeOpener, manifest: ReturnType<typeof neumfModel.manifest>, items: ItemTables): Promise<Seen> {
  const v = reply.value;
  if (!isObject(v)) return null;
  if (isObject(v['envelope'])) {
    // A sealed plain update: the coordinator opens it with its own key and the task it issued (as the plain collector
    // does: the envelope is AES-GCM bound to round, client, task and model version).
    if (!reply.task) return null;
    const e = v['envelope'] as unknown as SealedEnvelope;
    const bin = (b: unknown) => new Uint8Array(b as ArrayBuffer);
    const envelope = { ...e, senderPublicKey: bin(e.senderPublicKey), nonce: bin(e.nonce), ciphertext: bin(e.ciphertext) };
    const message = await opener.open(envelope, { ...reply.task, clientId: reply.clientId }).catch(() => null);
    if (!message) {
      // Not a fit update: a sealed evaluation result (plain mode) opens with the same key under the 'evaluate' kind.
      const result = await opener.open(envelope, evaluateBinding(reply.task, reply.clientId)).catch(() => null);
      if (!result) return null;
      return { kind: 'evaluation', inClear: false, coordinatorReads: Object.keys(decodeEvaluateMetrics(result).metrics).length > 0 };
    }
    const payload = decodeUpdatePayload(message, manifest);
    const scores = rowNorms(payload.delta, items);
    const touched = new Uint8Array(items.numItems);
    for (const t of items.tables) {
      for (let i = 0; i < items.numItems; i++) {
        const w = payload.rowWeights?.[t.rowWeightOffset + i] ?? 0;
        if (w > 0 || scores[i]! > 0) touched[i] = 1;
        scores[i]! += w;
      }
    }
    return { kind: 'update', scores, touched };
  }
  if ('json' in v && 'blob' in v) {
    // A secagg stage message; the masked input is the only one carrying the device's vector.
    const msg = unpack(v['json'], new Uint8Array(v['blob'] as Uint8Array));
    if (!isObject(msg) || !(msg['masked'] instanceof Uint8Array)) return null;
    // A secure evaluation masks a few words (secagg/evaluation.ts); a fit masks the whole model.
    if (msg['masked'].length < 4 * items.fitWords) return { kind: 'evaluation', inClear: false, coordinatorReads: false };
    const words = new Int32Array(new Uint8Array(msg['masked']).buffer);
    const scores = new Float64Array(items.numItems);
    for (const t of items.tables) {
      for (let i = 0; i < items.numItems; i++) {
        for (let c = 0; c < t.cols; c++) scores[i]! += Math.abs(words[t.offset + i * t.cols + c] ?? 0) / 2 ** 31;
      }
    }
    return { kind: 'update', scores, touched: new Uint8Array(items.numItems) };
  }
  if ('metrics' in v && 'numExamples' in v) {
    const inClear = isObject(v['metrics']) && Object.keys(v['metrics']).length > 0;
    return { kind: 'evaluation', inClear, coordinatorReads: inClear };
  }
  return null;
}

/** ‖row i‖ summed over the item tables, from a flat shared body. */
function rowNorms(flat: Float32Array, items: ItemTables): Float64Array {
  const out = new Float64Array(items.numItems);
  for (const t of items.tables) {
    for (let i = 0; i < items.numItems; i++) {
      let s = 0;
      for (let c = 0; c < t.cols; c++) s += flat[t.offset + i * t.cols + c]! ** 2;
      out[i]! += Math.sqrt(s);
    }
  }
  return out;
}
