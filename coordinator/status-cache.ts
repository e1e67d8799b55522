import type { CoordinatorStatus } from './coordinator-status.js';

/**
 * The round's selection as `/api/status` shows it, renamed once per round and audience instead of once
 * per request. The selection lists every client of the round (thousands), and the status is polled
 * (the dashboard, load balancers, the bench's sampler every 50 ms): mapping thousands of ids to
 * pseudonyms on every request was O(clients) of event-loop time per poll during exactly the busiest
 * moments. The round engine sets a new `selected` array for each round and never mutates it, so the
 * array's identity is the cache key.
 */
export class SelectionNames {
  private readonly byAudience = new Map<boolean, { selected: readonly string[]; names: string[] }>();

  /** `status` with its current round's selection renamed by `name` (`operator`: the audience `name` is for). */
  rename(status: CoordinatorStatus, operator: boolean, name: (clientId: string) => string): CoordinatorStatus {
    const round = status.currentRound;
    if (!round) {
      this.byAudience.clear(); // no round: let the last selection go
      return status;
    }
    let cached = this.byAudience.get(operator);
    if (cached?.selected !== round.selected) {
      cached = { selected: round.selected, names: round.selected.map(name) };
      this.byAudience.set(operator, cached);
    }
    return { ...status, currentRound: { ...round, selected: cached.names } };
  }
}
