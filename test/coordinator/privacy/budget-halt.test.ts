import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoundRecord } from '@fedrec/coordinator';
import { epsilonFor } from '@fedrec/coordinator/privacy/rdp-accountant.js';
import { PRIVACY_LEDGER_FILE } from '@fedrec/coordinator/privacy/privacy-ledger.js';
import { connectFakeClient, constantUpdate, next, startCoordinator, stopAll, tempDir } from '../helpers.js';
import type { FakeClient } from '../helpers.js';

describe('privacy: the budget halt over real Socket.IO', function () {
  this.timeout(60_000);
  const open: FakeClient[] = [];
  afterEach(async () => {
    open.splice(0).forEach((c) => c.close());
    await stopAll();
  });

  it('stops before the round that would exceed the budget, says why, and a restart keeps the spent budget', async () => {
    // Both connected clients are selected each round: q = 1, σ = 2. The budget fits three rounds, not four.
    const sigma = 2;
    const budget = (epsilonFor(1, sigma, 3, 1e-5) + epsilonFor(1, sigma, 4, 1e-5)) / 2;
    const privacy = { clipNorm: 1, noiseMultiplier: sigma, delta: 1e-5, epsilonBudget: budget };
    const dir = await tempDir();
    try {
      const { coordinator, url } = await startCoordinator({ minClients: 2, minResults: 2, checkpointDir: dir.dir, privacy });
      const committed: RoundRecord[] = [];
      coordinator.on('round:committed', (r) => committed.push(r));
      const finished = next(coordinator, 'training:finished', 30_000);
      const tasks: Array<Record<string, unknown>> = [];
      for (const id of ['a', 'b']) {
        open.push(
          await connectFakeClient(url, {
            clientId: id,
            fit: (task) => {
              tasks.push(task.config.extra);
              return { kind: 'update', payload: constantUpdate(0.1, 5) };
            },
          }),
        );
      }
      await finished;
      assert.equal(coordinator.modelVersion, 3, 'three rounds ran, the fourth was refused');
      assert.deepEqual(
        committed.map((r) => r.privacy?.released),
        [true, true, true],
      );
      const eps = committed.map((r) => r.privacy!.epsilon);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(eps[k]! - epsilonFor(1, sigma, k + 1, 1e-5)) < 1e-9, `round ${k + 1}: ε ${eps[k]}`);
      assert.ok(eps[2]! <= budget);
      const status = coordinator.status();
      assert.equal(status.phase, 'finished');
      assert.match(status.privacy!.halted ?? '', /privacy budget.*above the budget/);
      assert.equal(status.privacy!.roundsReleased, 3);
      assert.ok(
        tasks.every((extra) => extra['dp.clipNorm'] === 1 && extra['dp.noiseStd'] === 0),
        'central placement: devices clip, add no noise',
      );
      // The operator's views: /api/rounds (per round), /api/status, Prometheus.
      const rounds = (await (await fetch(`${url}/api/rounds`)).json()) as { rounds: RoundRecord[] };
      assert.deepEqual(
        rounds.rounds.map((r) => r.privacy?.epsilon),
        eps,
      );
      const apiStatus = (await (await fetch(`${url}/api/status`)).json()) as { privacy?: { epsilon: number; epsilonBudget: number } };
      assert.equal(apiStatus.privacy?.epsilonBudget, budget);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, new RegExp(`fedrec_privacy_epsilon ${eps[2]!.toString().slice(0, 8)}`));
      const ledger = JSON.parse(await readFile(join(dir.dir, PRIVACY_LEDGER_FILE), 'utf8')) as { steps: number };
      assert.equal(ledger.steps, 3);
      await stopAll();

      // The same directory again: the spent budget comes back, so no further round starts.
      const again = await startCoordinator({ minClients: 2, minResults: 2, checkpointDir: dir.dir, privacy });
      assert.ok(Math.abs(again.coordinator.status().privacy!.epsilon - eps[2]!) < 1e-9, 'epsilon resumed from the ledger');
      const finishedAgain = next(again.coordinator, 'training:finished', 30_000);
      for (const id of ['a', 'b'])
        open.push(await connectFakeClient(again.url, { clientId: id, fit: () => ({ kind: 'update', payload: constantUpdate(0.1, 5) }) }));
      await finishedAgain;
      assert.equal(again.coordinator.modelVersion, 3);
      assert.match(again.coordinator.status().privacy!.halted ?? '', /privacy budget/);
    } finally {
      await dir.remove();
    }
  });
});
