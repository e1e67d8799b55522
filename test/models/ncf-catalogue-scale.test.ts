import assert from 'node:assert/strict';
import { DEFAULT_TRAINING_CONFIG, decodeUpdatePayload, encodeUpdatePayload, paddedBucketBytes, rowLayout, type ModelSpec } from '@fedrec/protocol';
import { getModel } from '@fedrec/models/registry.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import type { UserData } from '@fedrec/recsys/split.js';

// A device's fit on a large catalogue (README "The 17,632-item run") trains and sends only the rows it
// touches: its positives and the negatives sampled for them. Counted, not timed: the same user's fit
// on a 300-item and a 17,632-item NeuMF keeps each table's delta within positives x (1 + negatives) rows.
describe('NCF fit on a large catalogue touches and sends only its own rows', function () {
  this.timeout(60_000);
  const positives = Int32Array.from({ length: 20 }, (_, i) => 3 * i);
  const negatives = 4;
  const user: UserData = { user: 7, numItems: 0, trainItems: positives, testItem: 1, testNegatives: Int32Array.of(2, 4) };

  for (const numItems of [300, 17_632]) {
    it(`${numItems} items: rows trained and rows sent are bounded by the user's examples, not the catalogue`, async () => {
      const spec: ModelSpec = { name: 'neumf', options: recsysModelOptions(numItems) };
      const global = getModel('neumf').initialWeights(spec.options, 1);
      const trainer = new RecsysTrainer({ data: { ...user, numItems }, engine: 'js', seed: 3 });
      const config = { ...DEFAULT_TRAINING_CONFIG, localEpochs: 1, batchSize: 4, learningRate: 0.5, extra: { negatives } };
      const out = await trainer.fit({ roundId: 0, modelVersion: 0, config, modelSpec: spec, global });
      const bound = positives.length * (1 + negatives);
      const layout = rowLayout(global.manifest);
      assert.ok(layout.tables.length >= 2, 'NeuMF has its item tables rowwise');
      for (const t of layout.tables) {
        let weighted = 0;
        let changed = 0;
        for (let row = 0; row < t.rows; row++) {
          if (out.rowWeights![t.rowWeightOffset + row] !== 0) weighted++;
          if (out.delta.subarray(t.offset + row * t.cols, t.offset + (row + 1) * t.cols).some((v) => v !== 0)) changed++;
        }
        assert.ok(weighted >= positives.length && weighted <= bound, `${t.name}: ${weighted} weighted rows, expected ${positives.length}..${bound}`);
        assert.ok(changed <= weighted, `${t.name}: ${changed} rows changed but only ${weighted} were trained`);
        for (const item of positives) assert.ok(out.rowWeights![t.rowWeightOffset + item]! > 0, `${t.name}: positive ${item} trained`);
      }
      // The wire form leaves every untouched row out: values for at most `bound` rows per table, plus the dense layers,
      // then padded to the run's size bucket (512 rows per table: README "Privacy"), which does not grow with the catalogue's rows.
      const bytes = encodeUpdatePayload({ numExamples: out.numExamples, metrics: {}, delta: out.delta, rowWeights: out.rowWeights! }, global.manifest);
      const dense = layout.segments.filter((s) => !s.table).reduce((n, s) => n + s.size, 0);
      const rowFloats = layout.tables.reduce((n, t) => n + bound * (t.cols + 1), 0);
      const bitmap = Math.ceil(layout.tables.reduce((n, t) => n + t.rows, 0) / 8);
      const unpadded = 4 * (dense + rowFloats) + bitmap + 512;
      const bucket = paddedBucketBytes(global.manifest);
      assert.ok(bytes.length <= Math.max(unpadded, bucket), `update of ${bytes.length} bytes on ${numItems} items (bucket ${bucket})`);
      assert.deepEqual(decodeUpdatePayload(bytes, global.manifest).delta, out.delta, 'lossless');
    });
  }
});
