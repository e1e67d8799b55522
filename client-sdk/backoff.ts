/** How retries space out: exponential from initialDelayMs, capped at maxDelayMs, spread by ±jitter. */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0..1: the fraction of each delay drawn at random, so clients do not retry in lockstep. */
  jitter: number;
}

/** The delay before retry number `attempt` (0-based); `random` is injectable so tests can pin it. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}
