import { SHARE_LENGTH } from '@fedrec/protocol/secagg-sizes.js';

/**
 * The revealed Shamir shares of one secret, copied side by side into one buffer as they arrive. Why not an array of
 * copies: the server keeps a survivor's seed shares until t have arrived and a dropped client's key shares to the
 * end of the round, which at 1,000 clients and 30% dropout was some 40,000 separate 33-byte arrays a round, each a
 * heap object every collection of the coordinator's heap walks; here it is one object per secret (an A/B showed no
 * speed-up beyond the bench's noise: README "SecAgg+ parameters and dropout"). Copies, not views:
 * a view would keep the whole received packet (a 400 KB correction included) alive.
 */
export class SharePile {
  private bytes: Uint8Array;
  private size = 0;

  /** `capacity`: the shares expected (the pile grows past it if more come). */
  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(1, capacity) * SHARE_LENGTH);
  }

  get count(): number {
    return this.size;
  }

  add(share: Uint8Array): void {
    if (share.length !== SHARE_LENGTH) throw new RangeError(`a share is ${SHARE_LENGTH} bytes, got ${share.length}`);
    if ((this.size + 1) * SHARE_LENGTH > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(share, this.size * SHARE_LENGTH);
    this.size++;
  }

  /** The shares in arrival order, as views into the pile (for combineShares). */
  shares(): Uint8Array[] {
    return Array.from({ length: this.size }, (_, i) => this.bytes.subarray(i * SHARE_LENGTH, (i + 1) * SHARE_LENGTH));
  }
}
