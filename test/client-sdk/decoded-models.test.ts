import assert from 'node:assert/strict';
import { encodeWeights, type ModelSpec, type Weights, type WireWeights } from '@fedrec/protocol';
import { DecodedModels } from '@fedrec/client-sdk/decoded-models.js';
import { ModelFetch } from '@fedrec/client-sdk/model-fetch.js';
import { taskContext } from '@fedrec/client-sdk/round-tasks.js';
import { TypedEmitter, silentLogger, type FederatedClientEvents } from '@fedrec/client-sdk';
import { FakeSocket } from './helpers/fake-socket.js';

const manifest = { tensors: [{ name: 'items', shape: [3, 2], dtype: 'float32' as const, shared: true }] };
const weights = (values: number[]): Weights => ({ manifest, body: Float32Array.from(values) });
/** A fresh copy of the wire bytes, as each device's own download would be. */
const download = (w: Weights, codec: 'none' | 'int8' = 'int8'): WireWeights => {
  const wire = encodeWeights(w, codec);
  return { ...wire, body: wire.body.slice() };
};

describe('decoded models (one decode per model per realm)', function () {
  it('shares one wire copy and one decode among equal downloads, and keeps different bytes apart', () => {
    const cache = new DecodedModels();
    const a = cache.intern(download(weights([1, 2, 3, 4, 5, 6])));
    const b = cache.intern(download(weights([1, 2, 3, 4, 5, 6])));
    assert.equal(b, a, 'an equal download reuses the held entry');
    assert.equal(cache.decode(b.wire), a.weights, 'a held wire decodes to the same weights object, without work');
    // A structurally cloned wire (what a schema parse of the task yields) keeps the body, so it still hits.
    assert.equal(cache.decode({ ...b.wire, manifest: JSON.parse(JSON.stringify(manifest)) }), a.weights);
    const c = cache.intern(download(weights([1, 2, 3, 4, 5, 7])));
    assert.notEqual(c, a, 'one byte of difference is another model');
    assert.notEqual(c.weights.body, a.weights.body);
    const d = cache.intern(download(weights([1, 2, 3, 4, 5, 6]), 'none'));
    assert.notEqual(d, a, 'another encoding is another entry');
  });

  it('validates what it interns and decodes unknown wires afresh', () => {
    const cache = new DecodedModels();
    const bad = download(weights([1, 2, 3, 4, 5, 6]));
    assert.throws(() => cache.intern({ ...bad, body: bad.body.subarray(1) }), /expected|bytes/);
    const other = download(weights([6, 5, 4, 3, 2, 1]), 'none');
    const first = cache.decode(other);
    assert.deepEqual(Array.from(first.body), [6, 5, 4, 3, 2, 1]);
    assert.notEqual(cache.decode(other), first, 'never interned: decoded each time, nothing kept');
  });

  it('two clients that download the same version hold one copy, and their tasks decode nothing more', async () => {
    const spec: ModelSpec = { name: 'test', options: {} };
    const w = weights([0.5, -1, 2, 0, 3, -4]);
    const fetches = [0, 1].map((k) => {
      // Each device gets its own bytes off its own socket.
      const socket = new FakeSocket(`u${k}`, {});
      socket.ack = async () => ({ ok: true, value: { modelVersion: 3, modelSpec: spec, weights: download(w) } });
      return new ModelFetch({ socket: () => socket.asSocket(), logger: silentLogger, events: new TypedEmitter<FederatedClientEvents>() });
    });
    const [wireA, wireB] = await Promise.all(fetches.map((f) => f.wireFor(3)));
    assert.equal(wireB, wireA, 'the second device holds the first device’s copy');
    const task = (weights: WireWeights) => ({ roundId: 0, modelVersion: 3, taskId: 't', modelSpec: spec, config: {}, weights }) as never;
    const ctxA = taskContext(task(wireA!));
    const ctxB = taskContext(task(wireB!));
    assert.equal(ctxB.global, ctxA.global, 'the tasks of both devices run on one decoded body');
    assert.equal(fetches[0]!.downloads + fetches[1]!.downloads, 2, 'each device still downloaded the model itself');
  });
});
