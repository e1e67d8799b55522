import assert from 'node:assert/strict';
import { resolveCliConfig, secureAggregationOf } from '@fedrec/coordinator-cli/cli-config.js';
import { runPrivacyAttack, type PrivacyAttackResult } from '../../bench/privacy/run-attack.js';

/**
 * The curious coordinator (bench/privacy/) against real SDK devices over Socket.IO: under the defaults of
 * `npm start` it must be at chance about who touched what, see one upload size and no per-device evaluation;
 * in plain mode the same attack must work (so chance level means hidden, not a broken attack).
 */
describe('end to end: hidden interactions under the defaults of npm start', function () {
  this.timeout(300_000);
  const population = { synthetic: { users: 12, items: 150, interactionsPerUser: 15 }, rounds: 2, seed: 7 };
  let hidden: PrivacyAttackResult;
  let plain: PrivacyAttackResult;

  before(async () => {
    const mode = secureAggregationOf(resolveCliConfig({}));
    assert.equal(mode, 'secagg+', 'npm start runs secure aggregation by default');
    hidden = await runPrivacyAttack({ mode, ...population });
    plain = await runPrivacyAttack({ mode: 'off', ...population });
  });

  it('the attack works on plain mode: it recovers interactions from single updates and across rounds (sizes and evaluations no longer tell)', () => {
    assert.equal(plain.roundsCommitted, 2);
    assert.ok(plain.singleUpdate.auc > 0.75, `single-update AUC ${plain.singleUpdate.auc}`);
    assert.ok(plain.acrossRounds.auc > 0.8, `across-rounds AUC ${plain.acrossRounds.auc}`);
    assert.ok(plain.acrossRounds.precisionAt10 > 2 * plain.acrossRounds.chancePrecisionAt10);
    // Plain updates are padded to the run's size bucket and evaluations are sealed (test/e2e/plain-privacy.e2e.test.ts).
    // One bucket for every device: what remains is up to 2 bytes of Socket.IO ack-id framing, as under secagg+.
    assert.ok(plain.sizes.maxBytes - plain.sizes.minBytes <= 2, JSON.stringify(plain.sizes));
    assert.equal(plain.evaluationRepliesInClear, 0, 'plain devices seal their evaluation results');
    // Sealed to the coordinator's key: the plain coordinator (the trusted aggregator) still reads each device's.
    assert.ok(
      plain.evaluationReplies > 0 && plain.evaluationRepliesCoordinatorReads === plain.evaluationReplies,
      `${plain.evaluationRepliesCoordinatorReads}/${plain.evaluationReplies}`,
    );
  });

  it('under the defaults the same attack is at chance, every upload has one size, and evaluation arrives only as a sum', () => {
    assert.equal(hidden.roundsCommitted, 2);
    for (const figures of [hidden.singleUpdate, hidden.acrossRounds]) {
      assert.ok(Math.abs(figures.auc - 0.5) <= 0.1, `AUC ${figures.auc}`);
      assert.ok(figures.precisionAt10 <= 2 * figures.chancePrecisionAt10 + 0.05, `P@10 ${figures.precisionAt10}`);
    }
    // Held-out items are one user each, so their AUC is noisy on masked noise; over the sums it is exactly chance.
    assert.ok(Math.abs(hidden.acrossRounds.heldOutAuc - 0.5) <= 0.1, `held-out AUC ${hidden.acrossRounds.heldOutAuc}`);
    // One masked-upload size for devices with different item counts (up to 2 bytes of Socket.IO ack-id framing).
    assert.ok(hidden.sizes.maxBytes - hidden.sizes.minBytes <= 2, JSON.stringify(hidden.sizes));
    assert.ok(hidden.evaluationReplies > 0);
    assert.equal(hidden.evaluationRepliesInClear, 0, 'no device sends readable metrics');
    assert.equal(hidden.evaluationRepliesCoordinatorReads, 0, 'the coordinator reads only the unmasked sum');
    const hr10 = hidden.lastEvaluation?.['hr10'];
    assert.ok(hr10 !== undefined && hr10 >= 0 && hr10 <= 1, 'the round still records HR@10: the unmasked mean');
  });
});
