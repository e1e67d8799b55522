import { useBestBackend } from '@fedrec/models/ncf/tfjs/backend.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { engineContract, enginesAgreeContract, type EngineFixtureFactory } from './engine.contract.js';
import { layersFixture, recommenderFixture } from './engine-fixtures.js';

/** float32 sums in another order (tfjs matmuls vs hand-written loops) differ by about this much on a tiny model. */
const ENGINES_AGREE_WITHIN = 1e-5;

// Every engine of every registered model runs the contract: a new model is its file plus its registry line.
describe('registered model engines', function () {
  before(async () => {
    await useBestBackend(['wasm', 'cpu']);
  });

  for (const name of defaultModelRegistry.names()) {
    const fixtures: Array<[string, EngineFixtureFactory]> = Object.entries(defaultModelRegistry.get(name).engines).map(([engine, loader]) => [
      engine,
      loader.kind === 'layers' ? layersFixture(defaultModelRegistry, name, engine) : recommenderFixture(defaultModelRegistry, name, engine),
    ]);
    for (const [engine, make] of fixtures) {
      // Layers fits shuffle their one batch with Math.random: the same data, summed in another order.
      engineContract(`${name} (${engine})`, make, { sameSeedTolerance: defaultModelRegistry.engine(name, engine).kind === 'layers' ? 1e-6 : 0 });
    }
    if (fixtures.length > 1) enginesAgreeContract(name, fixtures, ENGINES_AGREE_WITHIN);
  }
});
