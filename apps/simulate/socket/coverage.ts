import type { UserData } from '@fedrec/recsys/split.js';

/** How many of the simulated devices an evaluation covered, and which it did not (device ids). */
export interface Coverage {
  devices: number;
  covered: number;
  /** Device ids (user-N, as the fleet names them) whose evaluation is not in the figure. */
  missing: string[];
}

/** The simulation's device id for a user (apps/simulate/socket/fleet-worker.ts names them so). */
export const deviceId = (user: number) => `user-${user}`;

export function coverageOf(users: readonly UserData[], evaluated: readonly string[]): Coverage {
  const seen = new Set(evaluated);
  const missing = users.map((u) => deviceId(u.user)).filter((id) => !seen.has(id));
  return { devices: users.length, covered: users.length - missing.length, missing };
}
