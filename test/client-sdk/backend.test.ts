import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backendCandidates, currentBackend, nodeBackendCandidates, resetBackendSelection, selectBackend, type Logger } from '@fedrec/client-sdk/node/index.js';

function recordingLogger(): Logger & { entries: Array<{ level: string; obj: object; msg: string | undefined }> } {
  const entries: Array<{ level: string; obj: object; msg: string | undefined }> = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('client-sdk backend selection', function () {
  after(async () => {
    await selectBackend({ force: 'wasm' }); // leave the process on the default for other suites
  });

  it('registers the Node order tfjs-node-gpu, tfjs-node, wasm, cpu and the browser order webgpu, webgl, wasm, cpu', () => {
    assert.deepEqual(
      backendCandidates('node').map((c) => c.id),
      ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'],
    );
    assert.deepEqual(
      nodeBackendCandidates.map((c) => c.id),
      ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'],
    );
    assert.deepEqual(
      backendCandidates('browser').map((c) => c.id),
      ['webgpu', 'webgl', 'wasm', 'cpu'],
    );
  });

  it('skips the absent tfjs-node packages quietly and initialises wasm from node_modules', async () => {
    await selectBackend({ force: 'cpu' }); // start elsewhere so the walk below really switches
    resetBackendSelection();
    const logger = recordingLogger();
    assert.equal(await selectBackend({ logger }), 'wasm');
    assert.equal(currentBackend(), 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])));
    assert.deepEqual([...(await sum.data())], [4, 6]);
    sum.dispose();

    const unavailable = logger.entries.filter((e) => e.msg === 'optional backend package not loadable').map((e) => (e.obj as { backend: string }).backend);
    assert.deepEqual(unavailable, ['tfjs-node-gpu', 'tfjs-node']);
    const chosen = logger.entries.find((e) => e.msg === 'tfjs backend selected');
    assert.deepEqual(chosen?.obj, { backend: 'wasm', candidate: 'wasm', platform: 'node' });
    assert.deepEqual(
      logger.entries.filter((e) => e.level === 'warn' || e.level === 'error'),
      [],
    );
  });

  it('keeps its choice on later calls', async () => {
    assert.equal(await selectBackend(), 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });

  it('can be forced to cpu and back, and refuses an unknown backend clearly', async () => {
    assert.equal(await selectBackend({ force: 'cpu' }), 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(currentBackend(), 'cpu');
    await assert.rejects(selectBackend({ force: 'no-such-backend' }), /forced tfjs backend "no-such-backend" could not be initialised/);
    assert.equal(await selectBackend({ force: 'wasm' }), 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });
});
