import type { CoordinatorStatus } from './coordinator-status.js';

/**
 * `/api/status` as JSON text, with the round's selection renamed and serialized once per round and audience
 * instead of once per request. The selection lists every client of the round (thousands), and the status is
 * polled (the dashboard, load balancers, the bench's sampler every 50 ms): mapping thousands of ids to
 * pseudonyms and serializing them on every request was O(clients) of event-loop time per poll during
 * exactly the busiest moments. What is left per request is the status's fixed fields. The round engine sets
 * a new `selected` array for each round and never mutates it, so the array's identity is the cache key.
 */
export class SelectionNames {
  private readonly byAudience = new Map<boolean, { selected: readonly string[]; json: string }>();

  /**
   * `JSON.stringify` of `status` with its current round's selection renamed by `name` (`operator`: the audience
   * `name` is for), `currentRound` first; the selection's JSON comes from the cache.
   */
  json(status: CoordinatorStatus, operator: boolean, name: (clientId: string) => string): string {
    const round = status.currentRound;
    if (!round) {
      this.byAudience.clear(); // no round: let the last selection go
      return JSON.stringify(status);
    }
    const { selected, ...fields } = round;
    const { currentRound: _, ...rest } = status;
    // Both objects keep fields (roundId; protocolVersion), so each stringifies to `{…}` with something inside.
    const roundJson = `${JSON.stringify(fields).slice(0, -1)},"selected":${this.selection(selected, operator, name)}}`;
    return `{"currentRound":${roundJson},${JSON.stringify(rest).slice(1)}`;
  }

  private selection(selected: readonly string[], operator: boolean, name: (clientId: string) => string): string {
    let cached = this.byAudience.get(operator);
    if (cached?.selected !== selected) {
      cached = { selected, json: JSON.stringify(selected.map(name)) };
      this.byAudience.set(operator, cached);
    }
    return cached.json;
  }
}
