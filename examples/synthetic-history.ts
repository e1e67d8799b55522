import { DEFAULT_SYNTHETIC, generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';

/** FNV-1a: a stable small number from a device or user id. */
export function stableHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * A plausible history for a demo device: the synthetic generator's user picked by the device id, so
 * copies of the node app are different users whose tastes a shared model can learn (and the
 * dashboard's HR@10 means something). Item ids fit the default model's catalogue.
 */
export function syntheticHistoryFor(deviceId: string): { user: number; events: Array<{ itemId: number; timestamp: number }> } {
  const data = generateSyntheticInteractions();
  const user = stableHash(deviceId) % DEFAULT_SYNTHETIC.users;
  const events: Array<{ itemId: number; timestamp: number }> = [];
  for (let i = 0; i < data.users.length; i++) {
    // The generator's timestamps are seconds; behaviour events carry epoch milliseconds.
    if (data.users[i] === user) events.push({ itemId: data.items[i]!, timestamp: data.timestamps[i]! * 1000 });
  }
  return { user, events };
}
