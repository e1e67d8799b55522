/**
 * A bound on updates in flight (opened or being opened, not yet in the sums): the back-pressure that keeps
 * the coordinator's memory O(model × (workers + bound)) however many replies arrive at once. Callers over
 * the bound wait in arrival order; `peak` is what tests assert the bound on.
 */
export class InFlightGate {
  private active = 0;
  private highest = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`in-flight limit must be an integer >= 1, got ${limit}`);
  }

  get inFlight(): number {
    return this.active;
  }

  /** The most updates that were ever in flight at once. */
  get peak(): number {
    return this.highest;
  }

  /** How many callers wait for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  async acquire(): Promise<void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    this.highest = Math.max(this.highest, this.active);
  }

  /** Frees a slot: handed straight to the next waiter (so `active` never dips below a waiting queue). */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
