import assert from 'node:assert/strict';
import { autoNeighbours, neighbourCount, roundInfeasibility, thresholdFor } from './index.js';
import { DEFAULT_SECAGG_CONFIG, parseSecAggConfig } from '@fedrec/protocol';

describe('secagg config', () => {
  it('has documented defaults', () => {
    assert.deepEqual(DEFAULT_SECAGG_CONFIG, {
      mode: 'secagg+',
      threshold: 'auto',
      dropoutRate: 0.3,
      corruptionRate: 0.05,
      neighbours: 'auto',
      clipRange: 1,
      maxWeight: 1000,
      quantizationBits: 22,
      rounding: 'stochastic',
    });
  });

  it('rejects unknown keys, odd degrees, minority fractions and bad bits', () => {
    for (const bad of [{ mode: 'fast' }, { neighbours: 5 }, { threshold: 0.3 }, { threshold: 1.5 }, { quantizationBits: 31 }, { clipRange: 0 }, { extra: 1 }]) {
      assert.throws(() => parseSecAggConfig(bad), JSON.stringify(bad));
    }
    assert.equal(parseSecAggConfig({ threshold: 7 }).threshold, 7);
    assert.equal(parseSecAggConfig({ threshold: 1 }).threshold, 1);
  });

  it('resolves fractions to a strict majority of the sharing group and counts as given', () => {
    const cfg = parseSecAggConfig({ threshold: 0.5 });
    assert.equal(thresholdFor(cfg, 100), 51);
    assert.equal(thresholdFor(cfg, 9), 5);
    assert.equal(thresholdFor(parseSecAggConfig({ threshold: 1 }), 9), 9);
    assert.equal(thresholdFor(parseSecAggConfig({ threshold: 0.66 }), 100), 67);
    assert.equal(thresholdFor(parseSecAggConfig({ threshold: 6 }), 9), 6);
  });

  it('auto: Bell et al. parameters sized for 30% dropout and 5% colluders (strict majority in small rounds)', () => {
    const cfg = parseSecAggConfig({});
    assert.equal(neighbourCount(cfg, 100), 66);
    assert.equal(thresholdFor(cfg, 67, 100), 24);
    assert.equal(neighbourCount(cfg, 1000), 72);
    assert.equal(thresholdFor(cfg, 73, 1000), 26);
    assert.equal(neighbourCount(cfg, 6), 5);
    assert.equal(thresholdFor(cfg, 6, 6), 4); // full graph, strict majority: as before
    assert.equal(roundInfeasibility(cfg, 100), null);
    // Less expected dropout: a smaller graph.
    assert.equal(neighbourCount(parseSecAggConfig({ dropoutRate: 0.1 }), 1000), 38);
  });

  it('sizes neighbourhoods: all others in secagg, ≈log2 n (even) as the old rule, k as given', () => {
    assert.equal(neighbourCount(parseSecAggConfig({ mode: 'secagg' }), 100), 99);
    assert.equal(autoNeighbours(100), 8);
    assert.equal(autoNeighbours(500), 10);
    assert.equal(autoNeighbours(5), 4);
    assert.equal(neighbourCount(parseSecAggConfig({ mode: 'secagg+' }), 4), 3);
    assert.equal(neighbourCount(parseSecAggConfig({ mode: 'secagg+', neighbours: 12 }), 500), 12);
  });

  it('explains why a round cannot run', () => {
    const cfg = parseSecAggConfig({ mode: 'secagg' });
    assert.equal(roundInfeasibility(cfg, 100), null);
    assert.match(roundInfeasibility(cfg, 300)!, /secagg\+/);
    assert.match(roundInfeasibility(cfg, 2)!, /at least 3/);
    assert.match(roundInfeasibility(parseSecAggConfig({ mode: 'secagg', threshold: 3 }), 10)!, /majority/);
    assert.equal(roundInfeasibility(parseSecAggConfig({ mode: 'secagg+' }), 1000), null);
    assert.match(roundInfeasibility(parseSecAggConfig({ mode: 'secagg+', quantizationBits: 28 }), 100)!, /28-bit/);
  });
});
