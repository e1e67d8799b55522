import type { FederatedClient } from '@fedrec/client-sdk';
import { createCoordinator, type Coordinator, type Logger } from '@fedrec/coordinator';
import { dashboardExtension } from '@fedrec/dashboard';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import type { ModelSpec } from '@fedrec/protocol';
import { loadDemoData } from './catalog.js';
import type { Catalog } from './catalog-types.js';
import { demoExtension } from './demo-extension.js';
import { startSimulatedClients } from './simulated-clients.js';

export interface BrowserDemoOptions {
  port?: number;
  host?: string;
  /** Node devices started next to the coordinator. */
  simulatedClients?: number;
  /** Rounds start once this many clients (simulated + browsers) are connected. */
  minClients?: number;
  minResults?: number;
  roundTimeoutMs?: number;
  /** Pause between rounds, so a person can follow along. */
  roundIntervalMs?: number;
  /** ML-100K u.data (default ../shared/data/ml-100k/u.data); null = synthetic data. */
  dataPath?: string | null;
  logger?: Logger;
}

export interface BrowserDemo {
  coordinator: Coordinator;
  url: string;
  demoUrl: string;
  dashboardUrl: string;
  catalog: Catalog;
  simulated: FederatedClient[];
  stop(): Promise<void>;
}

/** Coordinator (NeuMF over the catalogue) + dashboard at / + demo page at /demo + simulated Node devices. */
export async function startBrowserDemo(o: BrowserDemoOptions = {}): Promise<BrowserDemo> {
  const { dataset, catalog } = loadDemoData(o.dataPath);
  const modelSpec: ModelSpec = { name: 'neumf', options: { numItems: dataset.numItems, factors: 8, layers: '16-8' } };
  const arch = ncfArch('neumf', modelSpec.options);
  const simulatedCount = o.simulatedClients ?? 6;
  const coordinator = createCoordinator({
    port: o.port ?? 8080,
    host: o.host ?? '127.0.0.1',
    modelSpec,
    initialWeights: ncfInitialWeights(arch, 2024),
    minClients: o.minClients ?? Math.max(1, simulatedCount),
    minResults: o.minResults ?? 1,
    roundTimeoutMs: o.roundTimeoutMs ?? 20_000,
    roundIntervalMs: o.roundIntervalMs ?? 1_500,
    retryDelayMs: 1_000,
    evaluateEvery: 1,
    trainingConfig: { localEpochs: 2, batchSize: 32, learningRate: 0.05, optimizer: 'sgd', extra: { negatives: 4 } },
    extensions: [dashboardExtension(), demoExtension(catalog)],
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const { url } = await coordinator.start();
  let simulated: FederatedClient[] = [];
  try {
    simulated = await startSimulatedClients({ url, dataset, count: simulatedCount });
  } catch (err) {
    await coordinator.stop();
    throw err;
  }
  return {
    coordinator,
    url,
    demoUrl: `${url}/demo`,
    dashboardUrl: `${url}/`,
    catalog,
    simulated,
    async stop() {
      await Promise.all(simulated.map((c) => c.close()));
      await coordinator.stop();
    },
  };
}
