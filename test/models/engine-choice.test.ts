import assert from 'node:assert/strict';
import { chooseEngine, isGpuBackend } from '@fedrec/models/engine-choice.js';

describe('engine choice: one rule for the SDK and the simulations', () => {
  it("'auto' takes tfjs on a GPU backend and the plain-JS engine everywhere else", () => {
    for (const backend of [{ backend: 'webgl' }, { backend: 'webgpu' }, { backend: 'tensorflow', candidate: 'tfjs-node-gpu' }]) {
      assert.equal(isGpuBackend(backend), true, JSON.stringify(backend));
      assert.equal(chooseEngine('auto', backend), 'tfjs', JSON.stringify(backend));
    }
    for (const backend of [
      undefined,
      { backend: 'wasm' },
      { backend: 'cpu' },
      { backend: 'tensorflow', candidate: 'tfjs-node' },
      { backend: 'webgl', software: true },
    ]) {
      assert.equal(isGpuBackend(backend), false, JSON.stringify(backend));
      assert.equal(chooseEngine('auto', backend), 'js', JSON.stringify(backend));
      assert.equal(chooseEngine(undefined, backend), 'js', 'auto is the default');
    }
  });

  it('the real-time workload (personalization, recommend scoring) takes the plain-JS engine even on a GPU', () => {
    assert.equal(chooseEngine('auto', { backend: 'webgl' }, ['js', 'tfjs'], 'real-time'), 'js');
    assert.equal(chooseEngine('auto', { backend: 'webgl' }, ['tfjs'], 'real-time'), 'tfjs', 'no js engine: the one it has');
    assert.equal(chooseEngine('tfjs', { backend: 'wasm' }, ['js', 'tfjs'], 'real-time'), 'tfjs', 'asked for');
  });

  it('an explicit engine is used as asked, whatever the backend', () => {
    assert.equal(chooseEngine('tfjs', undefined), 'tfjs');
    assert.equal(chooseEngine('js', { backend: 'webgl' }), 'js');
    assert.equal(chooseEngine('custom', { backend: 'wasm' }, ['custom']), 'custom');
  });

  it("'auto' falls back to a model's first engine when it has neither js nor a GPU", () => {
    assert.equal(chooseEngine('auto', { backend: 'wasm' }, ['layers']), 'layers');
    assert.equal(chooseEngine('auto', { backend: 'webgl' }, ['js']), 'js', 'no tfjs engine: js even on a GPU');
    assert.throws(() => chooseEngine('auto', undefined, []), /no engine/);
  });
});
