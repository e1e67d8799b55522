import assert from 'node:assert/strict';
import { decodeUpdatePayload, encodeUpdatePayload, PADDED_ITEM_ROWS, type UpdatePayload, type WeightManifest } from '@fedrec/protocol';
import { ErrorFeedback, RESIDUAL_KEY } from '@fedrec/client-sdk/error-feedback.js';
import { MemoryStore } from '@fedrec/client-sdk/store/memory-store.js';
import { SeededRandom } from '@fedrec/models/random.js';

const manifest: WeightManifest = {
  tensors: [
    { name: 'items', shape: [40, 8], dtype: 'float32', shared: true, rowwise: true },
    { name: 'bias', shape: [5], dtype: 'float32', shared: true },
  ],
};
const SIZE = 40 * 8 + 5;

function mulberry32(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}

/** Round t's update: rows 0-9 always touched, with small values next to one large one per row (int8 rounds the small ones away). */
function update(rand: () => number): UpdatePayload {
  const delta = new Float32Array(SIZE);
  const rowWeights = new Float32Array(40);
  for (let row = 0; row < 10; row++) {
    rowWeights[row] = 1;
    delta[row * 8] = 1; // sets the row's scale to 1/127
    for (let j = 1; j < 8; j++) delta[row * 8 + j] = 0.002 + 0.001 * rand(); // under half a step: a plain int8 encoding sends 0
  }
  for (let i = 320; i < SIZE; i++) delta[i] = (rand() - 0.5) * 1e-3;
  return { numExamples: 3, metrics: {}, delta, rowWeights };
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('client-sdk: error feedback for compressed uploads', () => {
  for (const codec of ['int8', 'fp16'] as const) {
    it(`${codec}: the sum of decoded deltas tracks the sum of true deltas within one residual; without feedback it drifts`, () => {
      const rand = mulberry32(7);
      const feedback = new ErrorFeedback();
      const truth = new Float64Array(SIZE);
      const withEf = new Float64Array(SIZE);
      const withoutEf = new Float64Array(SIZE);
      const rounds = 200;
      for (let t = 0; t < rounds; t++) {
        const u = update(rand);
        for (let i = 0; i < SIZE; i++) truth[i]! += u.delta[i]!;
        const sent = decodeUpdatePayload(feedback.encode(u, manifest, codec), manifest, codec).delta;
        for (let i = 0; i < SIZE; i++) withEf[i]! += sent[i]!;
        const plain = decodeUpdatePayload(encodeUpdatePayload(u, manifest, { compression: codec }), manifest, codec).delta;
        for (let i = 0; i < SIZE; i++) withoutEf[i]! += plain[i]!;
      }
      // Sum of what was sent = sum of truth - the residual now held, and the residual is at most one step.
      const residual = feedback.current!;
      for (let i = 0; i < SIZE; i++) assert.ok(Math.abs(truth[i]! - residual[i]! - withEf[i]!) < 1e-4, `value ${i}`);
      const errEf = maxAbsDiff(truth, withEf);
      const errPlain = maxAbsDiff(truth, withoutEf);
      const step = codec === 'int8' ? 1 / 127 : 2 ** -11;
      assert.ok(errEf <= step, `${codec} with feedback: error ${errEf} > one step ${step}`);
      if (codec === 'int8') assert.ok(errPlain > 50 * errEf, `without feedback the error should grow with rounds: ${errPlain} vs ${errEf}`);
    });
  }

  it('adds no residual to rows this update does not touch, so the upload names no extra item', () => {
    const feedback = new ErrorFeedback();
    const first = update(mulberry32(1));
    feedback.encode(first, manifest, 'int8');
    // The next update touches only row 20: rows 0-9 hold residuals but must stay out of it.
    const delta = new Float32Array(SIZE);
    const rowWeights = new Float32Array(40);
    delta.set([0.5, 0.25, 0, 0, 0, 0, 0, 0.125], 20 * 8);
    rowWeights[20] = 1;
    const back = decodeUpdatePayload(feedback.encode({ numExamples: 1, metrics: {}, delta, rowWeights }, manifest, 'int8'), manifest, 'int8');
    for (let row = 0; row < 40; row++) {
      const rowValues = back.delta.subarray(row * 8, row * 8 + 8);
      if (row === 20) assert.ok(rowValues.some((v) => v !== 0));
      else
        assert.ok(
          rowValues.every((v) => v === 0),
          `row ${row} was sent`,
        );
    }
    // Row 1's residual is still waiting for a round that touches it.
    assert.ok(feedback.current!.subarray(8, 16).some((v) => v !== 0));
  });

  it('keeps the residual in the store, and a new session picks it up', async () => {
    const store = new MemoryStore();
    const feedback = new ErrorFeedback(store);
    await feedback.load();
    feedback.encode(update(mulberry32(2)), manifest, 'int8');
    await new Promise((resolve) => setImmediate(resolve));
    const kept = (await store.get(RESIDUAL_KEY)) as { length: number; index: number[] };
    assert.equal(kept.length, SIZE);
    assert.ok(kept.index.length > 0 && kept.index.length < SIZE / 2, 'only the positions the update carried');
    const restarted = new ErrorFeedback(store);
    await restarted.load();
    assert.deepEqual(Array.from(restarted.current!), Array.from(feedback.current!));
  });

  it('float32 past the row budget: the rows left out of one update arrive in the next one that touches them', () => {
    const rows = PADDED_ITEM_ROWS + 100;
    const wide: WeightManifest = { tensors: [{ name: 'items', shape: [rows, 2], dtype: 'float32', shared: true, rowwise: true }] };
    // Round 1 touches every row, row r by r + 1 (so rows 0-99 are the smallest and are left out); round 2 touches rows 0-9 by 0.5.
    const first: UpdatePayload = { numExamples: rows, metrics: {}, delta: new Float32Array(rows * 2), rowWeights: new Float32Array(rows).fill(1) };
    for (let r = 0; r < rows; r++) first.delta.set([r + 1, r + 1], r * 2);
    const feedback = new ErrorFeedback();
    const sent1 = decodeUpdatePayload(feedback.encode(first, wide, 'none'), wide, 'none');
    assert.equal(sent1.rowWeights!.filter((w) => w !== 0).length, PADDED_ITEM_ROWS);
    assert.equal(sent1.delta[0], 0);
    assert.equal(sent1.delta[2 * 100], 101);
    const second: UpdatePayload = { numExamples: 10, metrics: {}, delta: new Float32Array(rows * 2), rowWeights: new Float32Array(rows) };
    for (let r = 0; r < 10; r++) {
      second.delta.set([0.5, 0.5], r * 2);
      second.rowWeights![r] = 1;
    }
    const sent2 = decodeUpdatePayload(feedback.encode(second, wide, 'none'), wide, 'none');
    for (let r = 0; r < 10; r++) assert.deepEqual(Array.from(sent2.delta.subarray(r * 2, r * 2 + 2)), [r + 1.5, r + 1.5], `row ${r}`);
    // Rows 10-99 were not touched again: they stay out of the upload and wait.
    assert.ok(sent2.delta.subarray(20, 200).every((v) => v === 0));
    assert.equal(feedback.current![2 * 50], 51);
    assert.equal(feedback.current![0], 0, 'what was sent leaves the residual');
  });

  it('float32 within the row budget and with no residual: exactly the plain encoding, nothing kept', () => {
    const feedback = new ErrorFeedback();
    const u = update(mulberry32(3));
    assert.deepEqual(feedback.encode(u, manifest, 'none'), encodeUpdatePayload(u, manifest));
    assert.equal(feedback.current, undefined);
  });
});
