import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sharedSize } from '@fedrec/protocol';
import { logistic, logisticModel } from '@fedrec/models/logistic.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { createModelRegistry, defaultModelRegistry, getModel, registeredModels } from '@fedrec/models/registry.js';

const run = promisify(execFile);

describe('model registry', function () {
  it('starts with the built-in models, each under its definition’s name', () => {
    assert.deepEqual(registeredModels(), ['logistic', 'mf', 'gmf', 'mlp', 'neumf', 'seq']);
    for (const name of registeredModels()) assert.equal(defaultModelRegistry.get(name).definition.name, name);
    assert.equal(getModel('neumf'), neumfModel);
    assert.equal(getModel('logistic'), logisticModel);
  });

  it('every engine loads and is of the kind its entry declares', async () => {
    for (const name of registeredModels()) {
      const engines = defaultModelRegistry.get(name).engines;
      assert.ok(Object.keys(engines).length > 0, `${name} has an engine`);
      for (const [engine, loader] of Object.entries(engines)) assert.equal((await loader.load()).kind, loader.kind, `${name}/${engine}`);
    }
    assert.equal(defaultModelRegistry.engine('neumf').kind, 'recommender', 'the first engine is the default');
  });

  it('a registry of its own starts from what it is given and leaves the default alone', () => {
    const mine = createModelRegistry([]);
    assert.deepEqual(mine.names(), []);
    mine.register({ ...logistic, definition: { ...logisticModel, name: 'custom' } });
    assert.deepEqual(mine.names(), ['custom']);
    assert.equal(sharedSize(mine.definition('custom').manifest({ features: 3 })), 4);
    assert.ok(!registeredModels().includes('custom'));
  });

  it('names what is registered when a model or an engine is unknown', () => {
    assert.throws(() => getModel('nope'), /unknown model "nope"; registered: logistic, mf, gmf, mlp, neumf/);
    assert.throws(() => defaultModelRegistry.engine('logistic', 'js'), /model "logistic" has no engine "js"; engines: tfjs/);
  });

  it('looking up a definition does not load tfjs; loading a tfjs engine does', async () => {
    // A fresh process: this one has loaded tfjs already. tfjs-core puts its engine on globalThis when it loads.
    const script = `
      const { getModel, defaultModelRegistry } = await import('@fedrec/models/registry.js');
      for (const name of ['logistic', 'neumf']) getModel(name).initialWeights({ numItems: 10 }, 1);
      const before = '_tfengine' in globalThis;
      await defaultModelRegistry.engine('neumf', 'tfjs').load();
      console.log(JSON.stringify({ before, after: '_tfengine' in globalThis }));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), { before: false, after: true });
  });
});
