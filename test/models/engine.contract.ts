import assert from 'node:assert/strict';
import { rowWeightsSize, sharedLayout, sharedSize, tensorSize, type WeightManifest } from '@fedrec/protocol';
import type { FitOutcome, TaskContext, Trainer } from '@fedrec/client-sdk/trainer.js';

/** One device running one engine of a registered model, ready for a task. */
export interface EngineFixture {
  trainer: Trainer;
  /** A fit/evaluate task for this round against the model's initial weights. */
  task(roundId: number): TaskContext;
  /** The device's private tensors as the trainer keeps them, by manifest name. */
  privateTensors(): Promise<Map<string, Float32Array>>;
  /** Offsets into the shared body that this device's data cannot reach (rows with row weight 0 are checked anyway). */
  untouched: number[];
  dispose(): void;
}

/** Makes a fresh device; the same seed must give the same data and the same private init. */
export type EngineFixtureFactory = (seed: number) => Promise<EngineFixture>;

export interface EngineContractOptions {
  /** How far two fits from the same seed may differ (0: bit for bit). */
  sameSeedTolerance: number;
}

const FIT_OUTCOME_KEYS = new Set(['delta', 'numExamples', 'rowWeights', 'metrics']);

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

/** The offsets of every rowwise row whose row weight is 0: rows the device never touched. */
function zeroWeightRows(manifest: WeightManifest, rowWeights: Float32Array): number[] {
  const offsets: number[] = [];
  let r = 0;
  for (const { spec, offset, size } of sharedLayout(manifest)) {
    if (!spec.rowwise) continue;
    const rows = spec.shape[0] ?? 0;
    const width = size / rows;
    for (let row = 0; row < rows; row++, r++) {
      if (rowWeights[r] === 0) for (let j = 0; j < width; j++) offsets.push(offset + row * width + j);
    }
  }
  return offsets;
}

/** The same manifest with one private tensor marked shared: what a greedy coordinator might send. */
function claimPrivate(manifest: WeightManifest): WeightManifest {
  const i = manifest.tensors.findIndex((t) => !t.shared);
  return { tensors: manifest.tensors.map((t, k) => (k === i ? { ...t, shared: true } : t)) };
}

/** What every engine of every registered model must do, whatever it is built on. */
export function engineContract(name: string, make: EngineFixtureFactory, options: EngineContractOptions): void {
  describe(`engine contract: ${name}`, function () {
    let fixture: EngineFixture;
    beforeEach(async () => (fixture = await make(1)));
    afterEach(() => fixture.dispose());

    it('fit returns a finite loss and a finite delta in the manifest’s shared layout', async () => {
      const task = fixture.task(1);
      const { manifest } = task.global;
      const out = await fixture.trainer.fit(task);
      assert.ok(out.numExamples > 0, 'trained on something');
      assert.ok(Number.isFinite(out.metrics['loss']), `loss ${out.metrics['loss']}`);
      assert.equal(out.delta.length, sharedSize(manifest));
      assert.ok(out.delta.every(Number.isFinite), 'finite delta');
      assert.ok(
        out.delta.some((v) => v !== 0),
        'training moved the shared weights',
      );
      if (rowWeightsSize(manifest) > 0) assert.equal(out.rowWeights?.length, rowWeightsSize(manifest));
    });

    it('shared rows the device never touched have a zero delta', async () => {
      const task = fixture.task(1);
      const out = await fixture.trainer.fit(task);
      const untouched = [...fixture.untouched, ...(out.rowWeights ? zeroWeightRows(task.global.manifest, out.rowWeights) : [])];
      assert.ok(untouched.length > 0, 'the fixture leaves some shared weights out of reach');
      for (const k of untouched) assert.equal(out.delta[k], 0, `untouched offset ${k} moved`);
    });

    it('private tensors never leave: the outcome carries the shared delta only, the private ones stay on the device', async () => {
      const task = fixture.task(1);
      const { manifest } = task.global;
      const privateSpecs = manifest.tensors.filter((t) => !t.shared);
      assert.ok(privateSpecs.length > 0, 'the model has a private tensor');
      const out: FitOutcome = await fixture.trainer.fit(task);
      for (const key of Object.keys(out)) assert.ok(FIT_OUTCOME_KEYS.has(key), `unexpected outcome field ${key}`);
      assert.equal(out.delta.length, sharedSize(manifest), 'no room for a private tensor in the delta');
      const kept = await fixture.privateTensors();
      for (const spec of privateSpecs) assert.equal(kept.get(spec.name)?.length, tensorSize(spec), `${spec.name} kept on the device`);
      const bad = claimPrivate(manifest);
      await assert.rejects(
        fixture.trainer.fit({ ...task, global: { manifest: bad, body: new Float32Array(sharedSize(bad)) } }),
        'a coordinator cannot ask for a private tensor',
      );
    });

    it('evaluate returns finite metrics', async () => {
      const out = await fixture.trainer.evaluate(fixture.task(1));
      assert.ok(out.numExamples > 0);
      assert.ok(Object.keys(out.metrics).length > 0, 'some metric');
      for (const [metric, v] of Object.entries(out.metrics)) assert.ok(Number.isFinite(v), `${metric} = ${v}`);
    });

    it('the same seed gives the same result', async () => {
      const other = await make(1);
      try {
        const a = await fixture.trainer.fit(fixture.task(1));
        const b = await other.trainer.fit(other.task(1));
        assert.ok(maxAbsDiff(a.delta, b.delta) <= options.sameSeedTolerance, `deltas differ by ${maxAbsDiff(a.delta, b.delta)}`);
        assert.ok(Math.abs(a.metrics['loss']! - b.metrics['loss']!) <= options.sameSeedTolerance);
        assert.deepEqual(a.rowWeights, b.rowWeights);
        assert.equal(a.numExamples, b.numExamples);
      } finally {
        other.dispose();
      }
    });
  });
}

/** Engines of one model must agree: same loss, deltas, row weights, private tensors and metrics from the same seed. */
export function enginesAgreeContract(name: string, engines: Array<[engine: string, make: EngineFixtureFactory]>, tolerance: number): void {
  describe(`engines agree: ${name} (${engines.map(([e]) => e).join(' vs ')}, within ${tolerance})`, function () {
    it('fit and evaluate give the same outcome on every engine', async () => {
      const runs = [];
      for (const [engine, make] of engines) {
        const f = await make(3);
        try {
          const fit = await f.trainer.fit(f.task(1));
          runs.push({ engine, fit, kept: await f.privateTensors(), evaluate: await f.trainer.evaluate(f.task(2)) });
        } finally {
          f.dispose();
        }
      }
      const [first, ...rest] = runs;
      for (const run of rest) {
        const vs = `${run.engine} vs ${first!.engine}`;
        assert.ok(Math.abs(run.fit.metrics['loss']! - first!.fit.metrics['loss']!) <= tolerance, `${vs}: loss`);
        assert.ok(maxAbsDiff(run.fit.delta, first!.fit.delta) <= tolerance, `${vs}: delta differs by ${maxAbsDiff(run.fit.delta, first!.fit.delta)}`);
        assert.deepEqual(run.fit.rowWeights, first!.fit.rowWeights, `${vs}: row weights`);
        for (const [tensor, values] of first!.kept) assert.ok(maxAbsDiff(run.kept.get(tensor)!, values) <= tolerance, `${vs}: private ${tensor}`);
        for (const [metric, v] of Object.entries(first!.evaluate.metrics))
          assert.ok(Math.abs(run.evaluate.metrics[metric]! - v) <= tolerance, `${vs}: ${metric}`);
      }
    });
  });
}
