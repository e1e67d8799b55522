import type { ClientInfo } from './strategy.js';

/** n distinct clients chosen uniformly at random (partial Fisher-Yates on a copy). */
export function sampleClients(clients: readonly ClientInfo[], n: number, random: () => number): ClientInfo[] {
  const pool = [...clients];
  const take = Math.max(0, Math.min(n, pool.length));
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, take);
}
