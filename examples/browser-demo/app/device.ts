import {
  CLIENT_ID_KEY,
  createBrowserClient,
  getString,
  openIndexedDbStore,
  type BehaviourEvent,
  type BehaviourStore,
  type FederatedClient,
} from '@fedrec/client-sdk/browser/index.js';
import type { Recommendation } from '@fedrec/client-sdk';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';

/** One round this device took part in, as the page shows it: only sizes and verdicts. */
export interface Participation {
  roundId: number;
  modelVersion: number;
  /** Size of the sealed envelope (ciphertext) sent to the coordinator. */
  bytesSent: number;
  numExamples: number;
  verdict: 'sent' | 'accepted' | 'rejected' | 'declined';
  note: string;
}

function hashToUser(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 1_000_000;
}

async function deviceClientId(store: BehaviourStore): Promise<string> {
  const existing = await getString(store, CLIENT_ID_KEY);
  if (existing) return existing;
  const id = `browser-${crypto.randomUUID().slice(0, 8)}`;
  await store.set(CLIENT_ID_KEY, id);
  return id;
}

/**
 * The demo's device: an IndexedDB store, a FederatedClient taking part in rounds with a
 * LiveRecsysTrainer, and on-device recommendation after every action.
 */
export class DemoDevice {
  readonly participation: Participation[] = [];
  private listeners = new Set<() => void>();
  recommendations: Recommendation[] = [];
  lastRecommendMs = 0;
  modelVersion = 0;

  private constructor(
    readonly store: BehaviourStore,
    readonly client: FederatedClient,
    readonly trainer: LiveRecsysTrainer,
    readonly clientId: string,
  ) {}

  static async open(url: string, prior?: Float32Array): Promise<DemoDevice> {
    const store = await openIndexedDbStore({ name: 'fedrec-demo' });
    const clientId = await deviceClientId(store);
    const trainer = new LiveRecsysTrainer({ store, user: hashToUser(clientId), ...(prior ? { prior: () => prior } : {}) });
    const client = await createBrowserClient({ url, trainer, store, clientId, reconnect: { initialDelayMs: 300 } });
    const device = new DemoDevice(store, client, trainer, clientId);
    device.wire();
    return device;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  private wire(): void {
    const c = this.client;
    c.on('fit:done', (e) => {
      this.participation.unshift({
        roundId: e.roundId,
        modelVersion: c.modelVersion ?? 0,
        bytesSent: e.bytesSent,
        numExamples: e.numExamples,
        verdict: 'sent',
        note: `loss ${(e.metrics['loss'] ?? NaN).toFixed(3)}`,
      });
      this.changed();
    });
    c.on('round:result', (r) => {
      const p = this.participation.find((x) => x.roundId === r.roundId);
      if (p) {
        p.verdict = r.accepted ? 'accepted' : 'rejected';
        if (!r.accepted) p.note = `${r.error?.code ?? ''} ${r.error?.message ?? ''}`;
      }
      this.changed();
    });
    c.on('task:failed', (f) => {
      if (f.kind !== 'fit') return;
      this.participation.unshift({ roundId: f.roundId, modelVersion: c.modelVersion ?? 0, bytesSent: 0, numExamples: 0, verdict: 'declined', note: f.message });
      this.changed();
    });
    c.on('model:updated', () => void this.refreshModel());
    c.on('welcome', () => void this.refreshModel());
    c.on('disconnected', () => this.changed());
  }

  async connect(): Promise<void> {
    await this.client.connect();
    this.changed();
  }

  /** Fetches the global model (a download: the only direction the model ever travels to here) and re-ranks. */
  async refreshModel(): Promise<void> {
    if (!this.client.connected) return;
    const m = await this.client.fetchModel();
    this.modelVersion = m.modelVersion;
    this.trainer.setGlobal(m.modelSpec, m.weights, m.modelVersion);
    await this.rerank(true); // the personal embedding follows the new shared weights
  }

  async record(itemId: number, kind: BehaviourEvent['kind'], value?: number): Promise<void> {
    await this.client.record({ itemId, kind, ...(value !== undefined ? { value } : {}) });
    await this.rerank(true);
  }

  /** Recomputes recommendations on the device; after an action also tunes the personal embedding first. */
  async rerank(afterAction: boolean): Promise<void> {
    const started = performance.now();
    if (afterAction) await this.trainer.personalize();
    this.recommendations = await this.trainer.recommend(10);
    this.lastRecommendMs = performance.now() - started;
    this.changed();
  }

  events(): Promise<BehaviourEvent[]> {
    return this.store.list();
  }
}
