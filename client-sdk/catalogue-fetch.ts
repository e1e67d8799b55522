import { catalogueSnapshotSchema, modelUpdatedSchema } from '@fedrec/protocol';
import { ClientCatalogue, type ItemCatalogue } from './catalogue.js';
import type { ClientSocket } from './connection.js';
import { requestFromCoordinator } from './coordinator-request.js';
import { FederatedClientError, errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { BehaviourStore } from './store/behaviour-store.js';

/** A trainer that maps app item ids through a catalogue (LiveRecsysTrainer). */
export interface CatalogueAware {
  setCatalogue(catalogue: ItemCatalogue): void;
}

export function isCatalogueAware(t: unknown): t is CatalogueAware {
  return typeof (t as Partial<CatalogueAware>).setCatalogue === 'function';
}

export interface CatalogueFetchOptions {
  socket(): ClientSocket | undefined;
  store: BehaviourStore;
  /** Who gets the catalogue each time it changes (the trainer). */
  target: CatalogueAware | undefined;
  requestTimeoutMs?: number;
  logger: Logger;
}

/**
 * The client's part that keeps the catalogue copy current: loads the persisted copy once, hears the
 * coordinator's catalogue version (welcome, model:updated) and fetches what is new with
 * `catalogue:get { since }`. A coordinator without a catalogue leaves the numeric default in place.
 */
export class CatalogueFetch {
  readonly copy = new ClientCatalogue();
  private newest: number | undefined;
  private loaded: Promise<void> | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly o: CatalogueFetchOptions) {}

  /** The newest catalogue version the coordinator has announced. */
  get announced(): number | undefined {
    return this.newest;
  }

  /** Loads the copy persisted in the store (once) and hands it to the trainer. */
  ready(): Promise<void> {
    this.loaded ??= this.copy.load(this.o.store).then(
      (ok) => {
        if (ok) this.o.target?.setCatalogue(this.copy);
      },
      (err: unknown) => this.o.logger.warn({ err: errorMessage(err) }, 'stored catalogue unreadable; it will be fetched again'),
    );
    return this.loaded;
  }

  /**
   * A welcome or an announcement named the coordinator's catalogue version: fetch in the background if
   * newer and a trainer maps ids through it (otherwise only fetchCatalogue() asks: a fleet of simulated
   * devices with row-index trainers need not each download the catalogue).
   */
  heard(catalogueVersion: number | undefined): void {
    if (catalogueVersion === undefined) return;
    this.newest = Math.max(this.newest ?? 0, catalogueVersion);
    if (this.o.target && this.stale())
      this.refresh().catch((err: unknown) => this.o.logger.warn({ err: errorMessage(err) }, 'catalogue refresh failed; retried when needed'));
  }

  /** The model:updated listener's share: the announcement carries the catalogue version. */
  updated(raw: unknown): void {
    const parsed = modelUpdatedSchema.safeParse(raw);
    if (parsed.success) this.heard(parsed.data.catalogueVersion);
  }

  /** True when the copy is older than what the coordinator announced, or than `numItems` model rows. */
  stale(numItems?: number): boolean {
    if (this.newest === undefined) return false;
    return this.copy.version === undefined || this.copy.version < this.newest || (numItems !== undefined && this.copy.size < numItems);
  }

  /** Brings the copy up to the coordinator's (one request at a time); persists it; hands it to the trainer. */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetchNew().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchNew(): Promise<void> {
    await this.ready();
    let applied = await this.request(this.copy.version);
    // Additions that do not follow on from this copy (a coordinator restored from an older checkpoint): start over.
    if (!applied && this.copy.version !== undefined) applied = await this.request(undefined);
    if (!applied) throw new FederatedClientError('INVALID_PAYLOAD', 'the coordinator sent a catalogue that does not fit together');
    this.newest = Math.max(this.newest ?? 0, this.copy.version ?? 0);
    await this.copy.save(this.o.store);
    this.o.target?.setCatalogue(this.copy);
  }

  private async request(since: number | undefined): Promise<boolean> {
    const socket = this.o.socket();
    if (!socket) throw new FederatedClientError('NOT_CONNECTED', 'fetching the catalogue needs a connected client');
    const value = await requestFromCoordinator('catalogue:get', () =>
      socket.timeout(this.o.requestTimeoutMs ?? 30_000).emitWithAck('catalogue:get', since === undefined ? {} : { since }),
    );
    const snapshot = catalogueSnapshotSchema.safeParse(value);
    if (!snapshot.success) throw new FederatedClientError('INVALID_PAYLOAD', `malformed catalogue: ${snapshot.error.message}`);
    return this.copy.apply(snapshot.data);
  }
}
