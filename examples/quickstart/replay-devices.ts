import { createMemoryStore, FederatedClient, LiveRecsysTrainer } from '@fedrec/client-sdk/node/index.js';
import type { InteractionDataset } from '@fedrec/recsys/data/types.js';

/**
 * One SDK device per user of the log, as an app would run it: the user's events are recorded on the
 * device in time order (record() validates and stores them there), then the device joins the
 * coordinator over Socket.IO and takes part in rounds with the trainer apps get (LiveRecsysTrainer).
 */
export async function replayUsersAsDevices(data: InteractionDataset, url: string, onConnected?: (n: number) => void): Promise<FederatedClient[]> {
  const byUser: Array<Array<{ item: number; time: number }>> = Array.from({ length: data.numUsers }, () => []);
  for (let i = 0; i < data.users.length; i++) byUser[data.users[i]!]!.push({ item: data.items[i]!, time: data.timestamps[i]! });
  const clients: FederatedClient[] = [];
  let connected = 0;
  await Promise.all(
    byUser.map(async (events, user) => {
      const store = createMemoryStore();
      const trainer = new LiveRecsysTrainer({ store, user, engine: 'js' });
      // Client ids must match [A-Za-z0-9_.:-]: the log's user id, cleaned.
      const clientId = `user-${data.userIds[user]!.replace(/[^A-Za-z0-9_.:-]/g, '_')}`.slice(0, 128);
      const client = new FederatedClient({ url, store, trainer, clientId, backend: false });
      events.sort((a, b) => a.time - b.time);
      // Events carry epoch milliseconds; logs mostly have seconds (only the order matters for training).
      for (const e of events) await client.record({ itemId: e.item, kind: 'click', timestamp: e.time < 1e11 ? e.time * 1000 : e.time });
      clients.push(client);
      await client.connect();
      onConnected?.(++connected);
    }),
  );
  return clients;
}
