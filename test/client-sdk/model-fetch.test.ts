import assert from 'node:assert/strict';
import { encodeWeights, type ModelSpec, type Weights } from '@fedrec/protocol';
import { ModelFetch } from '@fedrec/client-sdk/model-fetch.js';
import { FederatedClientError, TypedEmitter, silentLogger, type FederatedClientEvents, type Recommender } from '@fedrec/client-sdk';
import { FakeSocket } from './helpers/fake-socket.js';

const weights: Weights = { manifest: { tensors: [{ name: 'w', shape: [2], dtype: 'float32', shared: true }] }, body: Float32Array.from([1, 2]) };
const spec: ModelSpec = { name: 'test', options: {} };
const snapshot = (modelVersion: number) => ({ ok: true, value: { modelVersion, modelSpec: spec, weights: encodeWeights(weights) } });

/** A recommender that only remembers which global model it was given. */
class Recorder implements Recommender {
  modelVersion: number | undefined;
  given: number[] = [];
  setGlobal(_spec: ModelSpec, _weights: Weights, modelVersion: number): void {
    this.modelVersion = modelVersion;
    this.given.push(modelVersion);
  }
  async recommend(): Promise<[]> {
    return [];
  }
}

describe('model fetch', function () {
  function make(socket: FakeSocket | undefined) {
    const events = new TypedEmitter<FederatedClientEvents>();
    const fetch = new ModelFetch({ socket: () => socket?.asSocket(), logger: silentLogger, events });
    return { fetch, events };
  }

  it('tracks the newest version from the welcome, model:updated and its own fetches', async () => {
    const socket = new FakeSocket('u', {});
    const { fetch, events } = make(socket);
    const updates: number[] = [];
    events.on('model:updated', (u) => updates.push(u.modelVersion));
    assert.equal(fetch.version, undefined);
    fetch.welcomed(2);
    assert.equal(fetch.version, 2);
    fetch.updated({ modelVersion: 'bogus' });
    fetch.updated({ modelVersion: 4, roundId: 1 });
    assert.deepEqual(updates, [4]);
    socket.ack = async () => snapshot(3);
    const model = await fetch.fetch();
    assert.equal(model.modelVersion, 3);
    assert.deepEqual([...model.weights.body], [1, 2]);
    assert.equal(fetch.version, 4, 'an older snapshot does not roll the version back');
  });

  it('refuses without a connection, and passes on the coordinator code or a malformed reply as a coded error', async () => {
    await assert.rejects(make(undefined).fetch.fetch(), (err: unknown) => err instanceof FederatedClientError && err.code === 'NOT_CONNECTED');
    const socket = new FakeSocket('u', {});
    const { fetch } = make(socket);
    socket.ack = async () => ({ ok: false, error: { code: 'UNAUTHORIZED', message: 'who are you' } });
    await assert.rejects(fetch.fetch(), (err: unknown) => err instanceof FederatedClientError && err.code === 'UNAUTHORIZED');
    socket.ack = async () => ({ ok: true, value: { modelVersion: 1 } });
    await assert.rejects(fetch.fetch(), (err: unknown) => err instanceof FederatedClientError && err.code === 'INVALID_PAYLOAD');
    socket.ack = () => Promise.reject(new Error('operation has timed out'));
    await assert.rejects(fetch.fetch(), (err: unknown) => err instanceof FederatedClientError && err.code === 'INTERNAL');
  });

  it('refreshes a recommender only when its copy is missing or older than the newest version heard of', async () => {
    const socket = new FakeSocket('u', {});
    const { fetch } = make(socket);
    let asked = 0;
    socket.ack = async () => snapshot(5 + asked++);
    const recommender = new Recorder();
    await fetch.refresh(recommender);
    assert.deepEqual(recommender.given, [5]);
    await fetch.refresh(recommender);
    assert.deepEqual(recommender.given, [5], 'up to date: no request');
    fetch.updated({ modelVersion: 6, roundId: 2 });
    await fetch.refresh(recommender);
    assert.deepEqual(recommender.given, [5, 6]);
    assert.equal(asked, 2);
  });
});
