import type { BehaviourEvent } from './behaviour-event.js';

/** Small JSON-like values plus Float32Array (a private embedding, a user bias). */
export type StateValue = string | number | boolean | null | Float32Array | StateValue[] | { [key: string]: StateValue };

export interface ListOptions {
  /** Only events with timestamp >= since. */
  since?: number;
  /** At most this many, the most recent ones. */
  limit?: number;
}

/**
 * Where a device keeps its behaviour log and small private state. Async everywhere so that
 * memory, file and IndexedDB implementations share one shape.
 */
export interface BehaviourStore {
  append(events: BehaviourEvent | readonly BehaviourEvent[]): Promise<void>;
  /** Events in the order they were appended. */
  list(options?: ListOptions): Promise<BehaviourEvent[]>;
  count(): Promise<number>;
  clearEvents(): Promise<void>;
  /** Returns a copy: mutating it does not change the store. */
  get(key: string): Promise<StateValue | undefined>;
  set(key: string, value: StateValue): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Deep copy, so callers and the store never share a mutable array. */
export function cloneState(value: StateValue): StateValue {
  if (value instanceof Float32Array) return new Float32Array(value);
  if (Array.isArray(value)) return value.map(cloneState);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: StateValue } = {};
    for (const [k, v] of Object.entries(value)) out[k] = cloneState(v);
    return out;
  }
  return value;
}

/** Applies ListOptions to events already in append order. */
export function selectEvents(events: readonly BehaviourEvent[], options: ListOptions = {}): BehaviourEvent[] {
  let out = options.since === undefined ? [...events] : events.filter((e) => e.timestamp >= options.since!);
  if (options.limit !== undefined) out = options.limit <= 0 ? [] : out.slice(-options.limit);
  return out.map((e) => ({ ...e }));
}

/** Typed helpers for the two kinds of state the SDK keeps itself. */
export async function getFloat32(store: BehaviourStore, key: string): Promise<Float32Array | undefined> {
  const v = await store.get(key);
  return v instanceof Float32Array ? v : undefined;
}

export async function getString(store: BehaviourStore, key: string): Promise<string | undefined> {
  const v = await store.get(key);
  return typeof v === 'string' ? v : undefined;
}
