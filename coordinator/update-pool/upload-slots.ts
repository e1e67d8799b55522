import { ProtocolError } from '@fedrec/protocol';

export interface UploadSlotsOptions {
  /** Most ciphertext bytes granted at once (slots in transit or being opened); one slot is always allowed, whatever its size. */
  budgetBytes: number;
  /** How long a grant waits for its upload before the slot goes to the next device. */
  holdMs: number;
}

interface Grant {
  bytes: number;
  /** Set once the upload arrived: from then on the slot is held until release() (open, validate, sum). */
  used: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Waiter {
  clientId: string;
  bytes: number;
  resolve: () => void;
  reject: (err: ProtocolError) => void;
}

/**
 * One round's upload slots: the grant queue behind upload pacing (protocol/upload-slot.ts). Requests are
 * granted in arrival order while the granted bytes fit the budget (a large request at the head waits for
 * room rather than being overtaken, so no device starves). A grant is released when its update has been
 * accepted or refused, or when its upload does not arrive within `holdMs` (then the late upload is
 * refused: its bytes were never budgeted). One request per client per round; the caller checks who may ask.
 */
export class UploadSlots {
  private readonly grants = new Map<string, Grant>();
  /**
   * Waiting requests by client, in arrival order (a Map iterates in insertion order): a round of thousands of
   * devices asks at once, and the head, a lookup and a removal are each O(1) here, where scanning or shifting
   * an array was O(queue) each, O(devices²) a round on the event loop.
   */
  private readonly queued = new Map<string, Waiter>();
  /** Everyone who asked this round: one request per client, even after its grant expired or was used. */
  private readonly asked = new Set<string>();
  private grantedBytes = 0;
  private highestBytes = 0;
  private highestGrants = 0;
  private closed = false;

  constructor(private readonly options: UploadSlotsOptions) {
    if (!(Number.isSafeInteger(options.budgetBytes) && options.budgetBytes >= 1))
      throw new RangeError(`upload budget must be a positive integer, got ${options.budgetBytes}`);
    if (!(Number.isSafeInteger(options.holdMs) && options.holdMs >= 1))
      throw new RangeError(`upload slot hold must be a positive integer (ms), got ${options.holdMs}`);
  }

  /** Bytes granted now (slots in transit or being opened). */
  get bytesGranted(): number {
    return this.grantedBytes;
  }

  /** The most bytes, and the most slots, ever granted at once this round (what tests assert the bound on). */
  get peakBytes(): number {
    return this.highestBytes;
  }

  get peakSlots(): number {
    return this.highestGrants;
  }

  get waiting(): number {
    return this.queued.size;
  }

  /** Whether this client holds a slot request (queued or granted). */
  has(clientId: string): boolean {
    return this.grants.has(clientId) || this.queued.has(clientId);
  }

  /** Resolves when the slot is granted; rejects (UPLOAD_SLOT_DUPLICATE, ROUND_CLOSED) otherwise. */
  request(clientId: string, bytes: number): Promise<void> {
    if (this.closed) return Promise.reject(new ProtocolError('ROUND_CLOSED', 'the round no longer takes uploads'));
    if (this.asked.has(clientId))
      return Promise.reject(new ProtocolError('UPLOAD_SLOT_DUPLICATE', `client ${clientId} already asked for an upload slot this round`));
    this.asked.add(clientId);
    return new Promise<void>((resolve, reject) => {
      this.queued.set(clientId, { clientId, bytes, resolve, reject });
      this.pump();
    });
  }

  /**
   * The upload arrived: checks it has a live grant at least as large as what arrived, and keeps the slot
   * until release(). Throws UPLOAD_SLOT_REQUIRED (no grant: never asked, still queued, expired) or TOO_LARGE.
   */
  use(clientId: string, bytes: number): void {
    const grant = this.grants.get(clientId);
    if (!grant || grant.used) {
      const why = grant
        ? 'its slot was already used'
        : this.has(clientId)
          ? 'its slot request is still queued'
          : 'it holds no upload slot (never asked, or the grant expired)';
      throw new ProtocolError('UPLOAD_SLOT_REQUIRED', `upload from ${clientId} refused: ${why}`);
    }
    if (bytes > grant.bytes) throw new ProtocolError('TOO_LARGE', `upload of ${bytes} bytes exceeds the ${grant.bytes} bytes its slot was granted for`);
    grant.used = true;
    clearTimeout(grant.timer);
    grant.timer = undefined;
  }

  /** Frees this client's slot (its update was accepted or refused, or it failed) or drops its queued request. */
  release(clientId: string): void {
    const w = this.queued.get(clientId);
    if (w) {
      this.queued.delete(clientId);
      w.reject(new ProtocolError('ROUND_CLOSED', 'the task ended before an upload slot was free'));
    }
    const grant = this.grants.get(clientId);
    if (!grant) return this.pump(); // a dropped head of the queue may let the next ones in
    clearTimeout(grant.timer);
    this.grants.delete(clientId);
    this.grantedBytes -= grant.bytes;
    this.pump();
  }

  /**
   * release(), and forgets that this key asked: for a caller whose keys are used once and never again
   * (buffered mode keys slots by task id), so a long run's `asked` set holds only the keys still open.
   */
  forget(clientId: string): void {
    this.release(clientId);
    this.asked.delete(clientId);
  }

  /** Ends the round: queued requests are refused (ROUND_CLOSED), timers stopped. */
  close(): void {
    this.closed = true;
    for (const w of this.queued.values()) w.reject(new ProtocolError('ROUND_CLOSED', 'the round closed before an upload slot was free'));
    this.queued.clear();
    for (const g of this.grants.values()) clearTimeout(g.timer);
    this.grants.clear();
    this.grantedBytes = 0;
  }

  private pump(): void {
    for (const head of this.queued.values()) {
      if (this.closed) return;
      // Room in the budget, or nothing granted at all (a request larger than the whole budget still goes, alone).
      if (this.grants.size > 0 && this.grantedBytes + head.bytes > this.options.budgetBytes) return;
      this.queued.delete(head.clientId);
      const grant: Grant = { bytes: head.bytes, used: false, timer: undefined };
      grant.timer = setTimeout(() => {
        // Expired unused: the slot goes to the next device; a late upload finds no grant (UPLOAD_SLOT_REQUIRED).
        if (this.grants.get(head.clientId) === grant && !grant.used) this.release(head.clientId);
      }, this.options.holdMs);
      grant.timer.unref?.();
      this.grants.set(head.clientId, grant);
      this.grantedBytes += head.bytes;
      this.highestBytes = Math.max(this.highestBytes, this.grantedBytes);
      this.highestGrants = Math.max(this.highestGrants, this.grants.size);
      head.resolve();
    }
  }
}
