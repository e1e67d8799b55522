/**
 * The last `window` values in arrival order, with a sorted copy kept up to date as they come and go, so a
 * quantile is one lookup. The update policy asks for its quantiles before every update (update-policy.ts);
 * copying and sorting its 500-value windows for each one was a third of the event loop's JavaScript
 * allocations per update in the 1,000-client bench (a sampling heap profile, README "Throughput"). An insert
 * or an eviction here is a binary search and one in-place move of the array's tail: no allocation, no
 * comparator calls.
 */
export class RecentValues {
  private order: number[] = [];
  private sorted: number[] = [];

  constructor(readonly window: number) {}

  get length(): number {
    return this.order.length;
  }

  /** Adds a value; the oldest leaves once there are more than `window`. A window of 0 keeps nothing. */
  push(value: number): void {
    if (this.window <= 0) return;
    this.order.push(value);
    this.sorted.splice(lowerBound(this.sorted, value), 0, value);
    if (this.order.length > this.window) this.sorted.splice(lowerBound(this.sorted, this.order.shift()!), 1);
  }

  /** The q-quantile by nearest rank (the same value as sorting a copy and taking rank ⌈q·n⌉); undefined when empty. */
  quantile(q: number): number | undefined {
    const n = this.sorted.length;
    return n === 0 ? undefined : this.sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  }

  /** The values in arrival order (a copy: for checkpoints). */
  values(): number[] {
    return [...this.order];
  }

  /** Replaces the contents with the last `window` of `values` (a restored checkpoint). */
  reset(values: readonly number[]): void {
    this.order = this.window > 0 ? values.slice(-this.window) : [];
    this.sorted = [...this.order].sort((a, b) => a - b);
  }
}

/** The first index whose value is >= `value` in an ascending array. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
