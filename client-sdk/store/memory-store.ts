import { behaviourEventSchema, type BehaviourEvent } from './behaviour-event.js';
import { cloneState, selectEvents, type BehaviourStore, type ListOptions, type StateValue } from './behaviour-store.js';

/** Keeps everything in memory: the default, and the reference for the store contract tests. */
export class MemoryStore implements BehaviourStore {
  private events: BehaviourEvent[] = [];
  private readonly state = new Map<string, StateValue>();

  async append(events: BehaviourEvent | readonly BehaviourEvent[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events as BehaviourEvent];
    const parsed = list.map((e) => behaviourEventSchema.parse(e));
    this.events.push(...parsed);
  }

  async list(options?: ListOptions): Promise<BehaviourEvent[]> {
    return selectEvents(this.events, options);
  }

  async count(): Promise<number> {
    return this.events.length;
  }

  async clearEvents(): Promise<void> {
    this.events = [];
  }

  async get(key: string): Promise<StateValue | undefined> {
    const v = this.state.get(key);
    return v === undefined ? undefined : cloneState(v);
  }

  async set(key: string, value: StateValue): Promise<void> {
    this.state.set(key, cloneState(value));
  }

  async delete(key: string): Promise<void> {
    this.state.delete(key);
  }

  async close(): Promise<void> {}
}

export function createMemoryStore(): BehaviourStore {
  return new MemoryStore();
}
