import assert from 'node:assert/strict';
import { manifestSchema, sharedSize } from '@fedrec/protocol';
import { logisticModel } from '@fedrec/models/logistic.js';
import { LOGISTIC_TENSORS } from '@fedrec/models/logistic-spec.js';
import { getModel, registeredModels } from '@fedrec/models/registry.js';

describe('logistic model definition', function () {
  it('is in the default model registry', () => {
    assert.ok(registeredModels().includes('logistic'));
    assert.equal(getModel('logistic'), logisticModel);
  });

  it('has a shared kernel and bias and a private user bias', () => {
    const manifest = manifestSchema.parse(logisticModel.manifest({ features: 5 }));
    assert.deepEqual(
      manifest.tensors.map((t) => [t.name, t.shape, t.shared]),
      [
        [LOGISTIC_TENSORS.kernel, [5, 1], true],
        [LOGISTIC_TENSORS.bias, [1], true],
        [LOGISTIC_TENSORS.userBias, [1], false],
      ],
    );
    assert.equal(sharedSize(manifest), 6);
  });

  it('makes reproducible initial weights from the seed, shared tensors only', () => {
    const a = logisticModel.initialWeights({ features: 5 }, 42);
    const b = logisticModel.initialWeights({ features: 5 }, 42);
    const c = logisticModel.initialWeights({ features: 5 }, 43);
    assert.equal(a.body.length, 6);
    assert.deepEqual([...a.body], [...b.body]);
    assert.notDeepEqual([...a.body], [...c.body]);
    assert.equal(a.body[5], 0);
    assert.ok(a.body.slice(0, 5).some((v) => v !== 0));
  });

  it('refuses nonsense options', () => {
    assert.throws(() => logisticModel.manifest({ features: 0 }), RangeError);
    assert.throws(() => logisticModel.manifest({ features: 2.5 }), RangeError);
  });
});
