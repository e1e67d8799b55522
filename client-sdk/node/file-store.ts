import { promises as fs } from 'node:fs';
import path from 'node:path';
import { behaviourEventSchema, type BehaviourEvent } from '../store/behaviour-event.js';
import { cloneState, selectEvents, type BehaviourStore, type ListOptions, type StateValue } from '../store/behaviour-store.js';

const EVENTS_FILE = 'events.jsonl';
const STATE_FILE = 'state.json';
const F32_TAG = '$f32';

/** Float32Array becomes { "$f32": base64 } so state stays one small JSON file. */
function encodeState(value: StateValue): unknown {
  if (value instanceof Float32Array) {
    return { [F32_TAG]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encodeState);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeState(v)]));
  }
  return value;
}

function decodeState(value: unknown): StateValue {
  if (Array.isArray(value)) return value.map(decodeState);
  if (value !== null && typeof value === 'object') {
    const tagged = (value as Record<string, unknown>)[F32_TAG];
    if (typeof tagged === 'string' && Object.keys(value).length === 1) {
      const bytes = Buffer.from(tagged, 'base64');
      const copy = new Uint8Array(bytes.byteLength); // Buffers can sit at unaligned offsets: copy first
      copy.set(bytes);
      return new Float32Array(copy.buffer);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeState(v)]));
  }
  return value as StateValue;
}

/** Writes to a temp file then renames, so a crash leaves the old or the new file, never half of one. */
async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A behaviour store in a directory: events as JSON lines (appended), state as one JSON file
 * (replaced atomically). Everything is cached in memory; writes are serialised.
 */
export class FileStore implements BehaviourStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private events: BehaviourEvent[],
    private readonly state: Map<string, StateValue>,
  ) {}

  static async open(dir: string): Promise<FileStore> {
    await fs.mkdir(dir, { recursive: true });
    const events: BehaviourEvent[] = [];
    const eventsFile = path.join(dir, EVENTS_FILE);
    const text = (await readIfExists(eventsFile)) ?? '';
    let torn = text.length > 0 && !text.endsWith('\n');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        events.push(behaviourEventSchema.parse(JSON.parse(line)));
      } catch {
        torn = true; // a crash mid-append can leave one torn line: drop it rather than lose the log
      }
    }
    // Rewrite a torn log so the next append starts on a clean line.
    if (torn) await writeAtomic(eventsFile, events.map((e) => JSON.stringify(e) + '\n').join(''));
    const stateText = await readIfExists(path.join(dir, STATE_FILE));
    const state = new Map<string, StateValue>();
    if (stateText) {
      for (const [k, v] of Object.entries(JSON.parse(stateText) as Record<string, unknown>)) state.set(k, decodeState(v));
    }
    return new FileStore(dir, events, state);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async append(events: BehaviourEvent | readonly BehaviourEvent[]): Promise<void> {
    const list = (Array.isArray(events) ? events : [events as BehaviourEvent]).map((e) => behaviourEventSchema.parse(e));
    return this.serial(async () => {
      if (list.length === 0) return;
      await fs.appendFile(path.join(this.dir, EVENTS_FILE), list.map((e) => JSON.stringify(e)).join('\n') + '\n', 'utf8');
      this.events.push(...list);
    });
  }

  async list(options?: ListOptions): Promise<BehaviourEvent[]> {
    return selectEvents(this.events, options);
  }

  async count(): Promise<number> {
    return this.events.length;
  }

  clearEvents(): Promise<void> {
    return this.serial(async () => {
      await writeAtomic(path.join(this.dir, EVENTS_FILE), '');
      this.events = [];
    });
  }

  async get(key: string): Promise<StateValue | undefined> {
    const v = this.state.get(key);
    return v === undefined ? undefined : cloneState(v);
  }

  set(key: string, value: StateValue): Promise<void> {
    const copy = cloneState(value);
    return this.serial(async () => {
      this.state.set(key, copy);
      await this.flushState();
    });
  }

  delete(key: string): Promise<void> {
    return this.serial(async () => {
      if (this.state.delete(key)) await this.flushState();
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {});
  }

  private async flushState(): Promise<void> {
    const obj = Object.fromEntries([...this.state].map(([k, v]) => [k, encodeState(v)]));
    await writeAtomic(path.join(this.dir, STATE_FILE), JSON.stringify(obj));
  }
}

export function openFileStore(dir: string): Promise<FileStore> {
  return FileStore.open(dir);
}
