import { FederatedClient } from '@fedrec/client-sdk';
import type { Logger } from '@fedrec/client-sdk/logger.js';
import type { InteractionDataset } from '@fedrec/recsys/data/types.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';

export interface SimulatedClientsOptions {
  url: string;
  dataset: InteractionDataset;
  count: number;
  /** Spreads the picked users over the dataset. */
  seed?: number;
  logger?: Logger;
}

/**
 * Node devices standing in for other users: each holds exactly one dataset user's history and
 * trains through the same FederatedClient on the engine the SDK's rule picks without a tfjs backend (plain JS).
 */
export async function startSimulatedClients(o: SimulatedClientsOptions): Promise<FederatedClient[]> {
  const split = leaveOneOut(o.dataset, { seed: o.seed ?? 42 });
  const step = Math.max(1, Math.floor(split.users.length / Math.max(1, o.count)));
  const users = Array.from({ length: Math.min(o.count, split.users.length) }, (_, i) => split.users[(i * step + (o.seed ?? 0)) % split.users.length]!);
  const clients = users.map(
    (data) =>
      new FederatedClient({
        url: o.url,
        clientId: `sim-user-${data.user}`,
        trainer: new RecsysTrainer({ data, seed: 1 }),
        backend: false,
        reconnect: { initialDelayMs: 200 },
        ...(o.logger ? { logger: o.logger } : {}),
      }),
  );
  await Promise.all(clients.map((c) => c.connect()));
  return clients;
}
