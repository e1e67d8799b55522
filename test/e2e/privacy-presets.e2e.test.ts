import assert from 'node:assert/strict';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk';
import type { RoundRecord } from '@fedrec/coordinator';
import { resolveCliConfig } from '@fedrec/coordinator-cli/cli-config.js';
import { coordinatorOptionsFromCli } from '@fedrec/coordinator-cli/cli-options.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { DEFAULT_TRAINING_CONFIG } from '@fedrec/protocol';
import { initialWeights, startCoordinator, stopAll } from '../coordinator/helpers.js';
import { DeterministicTrainer } from './fixtures/deterministic-trainer.js';

const clientsOpen: FederatedClient[] = [];

/**
 * `npm start --privacy standard|strict` end to end: the options come from the CLI's own resolution (secagg+,
 * distributed noise, the preset's sampling rate), real SDK devices over Socket.IO, one round that commits with
 * its noisy sum released and accounted. The population is sized so the preset's fraction selects 3 devices.
 */
describe('end to end: the --privacy presets run a round under secagg+ with DP', function () {
  this.timeout(120_000);
  afterEach(async () => {
    await Promise.all(clientsOpen.splice(0).map((c) => c.close()));
    await stopAll();
  });

  for (const [preset, devices] of [
    ['standard', 15],
    ['strict', 30],
  ] as const) {
    it(`${preset}: ${devices} devices, the preset's fraction a round, masked and noised, epsilon accounted`, async () => {
      const cli = coordinatorOptionsFromCli(resolveCliConfig({ privacy: preset, rounds: '1' }), initialWeights(), silentLogger);
      assert.equal(cli.secureAggregation, 'secagg+');
      const { coordinator, url } = await startCoordinator({
        secureAggregation: cli.secureAggregation,
        privacy: cli.privacy,
        clientsPerRound: cli.clientsPerRound,
        serverLearningRate: cli.serverLearningRate,
        minClients: devices,
        rounds: 1,
        roundTimeoutMs: 60_000,
        // The preset's secagg settings, with stage deadlines for a loaded machine.
        secAgg: { ...cli.secAgg, advertiseTimeoutMs: 20_000, shareKeysTimeoutMs: 20_000, unmaskTimeoutMs: 20_000 },
        trainingConfig: DEFAULT_TRAINING_CONFIG,
      });
      const committed = new Promise<RoundRecord>((resolve) => coordinator.once('round:committed', resolve));
      const clients = Array.from({ length: devices }, (_, i) =>
        createFederatedClient({ url, clientId: `dev-${i}`, trainer: new DeterministicTrainer(i), backend: false, reconnect: { enabled: false } }),
      );
      clientsOpen.push(...clients);
      await Promise.all(clients.map((c) => c.connect()));
      const record = await committed;
      const p = record.privacy!;
      assert.equal(p.placement, 'distributed');
      assert.equal(p.released, true);
      assert.ok(record.participants.length >= 3, `participants ${record.participants.length}`);
      assert.ok(Math.abs(p.sampleRate - record.participants.length / devices) < 0.2, `sampling rate ${p.sampleRate}`);
      assert.ok(p.epsilon > 0 && p.epsilon < (preset === 'standard' ? 8 : 2), `epsilon ${p.epsilon}`);
      assert.equal(coordinator.status().privacy!.roundsReleased, 1);
    });
  }
});
