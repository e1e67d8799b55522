import nacl from 'tweetnacl';
import { constantTimeEqual } from './bytes.js';
import { neighbourCount, roundInfeasibility, thresholdFor } from './config.js';
import { type SecAggConfig } from '@fedrec/protocol';
import { SecAggError } from './errors.js';
import { neighbourGraph } from './graph.js';
import { agreeKey, pairwiseSign, publicKeyOf } from './key-agreement.js';
import type { AdvertiseKeys, ForwardedShares, MaskedInput, Roster, ShareKeys, UnmaskRequest, UnmaskResponse } from '@fedrec/protocol';
import { addMask } from './prg.js';
import { combineShares, combineSharesSync } from './shamir.js';
import { WordSum } from './word-sum.js';
import { SharePile } from './share-pile.js';
import { SHARE_LENGTH } from '@fedrec/protocol/secagg-sizes.js';

export interface SecAggServerOptions {
  roundId: number;
  config: SecAggConfig;
  /** Length in uint32 words of every client's masked vector. */
  vectorLength: number;
  /** Randomness for the SecAgg+ graph seed (nacl.randomBytes unless injected). */
  randomBytes?: (n: number) => Uint8Array;
}

export type SecAggServerStage = 'advertise' | 'share-keys' | 'masked-input' | 'unmask' | 'completed' | 'abandoned';

/** The round cannot finish securely; nothing about any input is returned. */
export interface SecAggAbandoned {
  status: 'abandoned';
  stage: SecAggServerStage;
  reason: string;
}

/** A stage closed: one message per surviving client to send it, and who fell out at this stage. */
export interface SecAggAdvance<M> {
  status: 'continue';
  messages: Map<string, M>;
  dropped: string[];
}

export interface SecAggCompleted {
  status: 'completed';
  /** Σ of the contributors' quantized vectors modulo 2^32: decode with decodeAggregate(sum, contributors.length, ...). */
  sum: Uint32Array;
  contributors: string[];
  /** Clients that shared keys but whose input is not in the sum (masks removed via their key shares). */
  droppedAfterShareKeys: string[];
}

export type SecAggOutcome = SecAggCompleted | SecAggAbandoned;

interface Advertised {
  cipherPublicKey: Uint8Array;
  maskPublicKey: Uint8Array;
}

type Sealed = { nonce: Uint8Array; ciphertext: Uint8Array };

/**
 * The server's side of one secure-aggregation round. The caller feeds it each stage's messages as they
 * arrive (`accept…`, which validate and throw SecAggError for bad ones) and, at the stage's deadline,
 * closes the stage (`close…`) with whoever answered: the result is the next messages to send, or an
 * explicit abandonment when fewer than the threshold survive. It never holds individual inputs, only
 * their running masked sum.
 */
export class SecAggServer {
  readonly roundId: number;
  private readonly config: SecAggConfig;
  private readonly vectorLength: number;
  private readonly randomBytes: (n: number) => Uint8Array;
  private stageName: SecAggServerStage = 'advertise';
  private abandonedWith: SecAggAbandoned | null = null;
  private advertised = new Map<string, Advertised>();
  private graph = new Map<string, string[]>();
  private threshold = 0;
  private shares = new Map<string, Map<string, Sealed>>();
  private stage1 = new Set<string>();
  /** The running masked sum (null once the round is over: its memory is let go). */
  private maskedSum: WordSum | null;
  private stage2 = new Set<string>();
  private droppedAfterShareKeys: string[] = [];
  private requests = new Map<string, UnmaskRequest>();
  private seedShares = new Map<string, SharePile>();
  private keyShares = new Map<string, SharePile>();
  /** Each client's position in the sorted roster, and one stamp per position (the unmask reply check). */
  private position = new Map<string, number>();
  private stamps = new Uint32Array(0);
  private stamp = 0;
  private responders = new Set<string>();
  /** Survivors whose self mask is already out of the sum (removed as soon as their t-th seed share arrived). */
  private selfMasksRemoved = new Set<string>();

  constructor(options: SecAggServerOptions) {
    if (options.config.mode === 'off') throw new RangeError('SecAggServer needs mode secagg or secagg+');
    if (!Number.isInteger(options.vectorLength) || options.vectorLength < 1) throw new RangeError('vectorLength must be a positive integer');
    this.roundId = options.roundId;
    this.config = options.config;
    this.vectorLength = options.vectorLength;
    this.randomBytes = options.randomBytes ?? nacl.randomBytes;
    this.maskedSum = new WordSum(options.vectorLength);
  }

  get stage(): SecAggServerStage {
    return this.stageName;
  }

  /** Neighbours of a client in this round's graph (all others in SecAgg), once stage 0 is closed. */
  neighboursOf(clientId: string): readonly string[] {
    return this.graph.get(clientId) ?? [];
  }

  get thresholdCount(): number {
    return this.threshold;
  }

  // ---- stage 0: advertise keys ----

  acceptAdvertisement(clientId: string, msg: AdvertiseKeys): void {
    this.expect('advertise', msg.roundId);
    if (this.advertised.has(clientId)) throw new SecAggError('DUPLICATE', `${clientId} already advertised keys`);
    if (constantTimeEqual(msg.cipherPublicKey, msg.maskPublicKey)) throw new SecAggError('BAD_ROSTER', 'cipher and mask keys must differ');
    this.advertised.set(clientId, { cipherPublicKey: msg.cipherPublicKey, maskPublicKey: msg.maskPublicKey });
  }

  closeAdvertisement(): SecAggAdvance<Roster> | SecAggAbandoned {
    this.expect('advertise');
    const roster = [...this.advertised.keys()].sort();
    const infeasible = roundInfeasibility(this.config, roster.length);
    if (infeasible) return this.abandon(infeasible);
    const k = neighbourCount(this.config, roster.length);
    const graphSeed = this.randomBytes(32);
    this.graph = neighbourGraph(roster, k, graphSeed);
    this.threshold = thresholdFor(this.config, k + 1, roster.length);
    this.position = new Map(roster.map((id, i) => [id, i]));
    this.stamps = new Uint32Array(roster.length);
    const messages = new Map<string, Roster>();
    for (const id of roster) {
      const neighbours = this.neighboursOf(id).map((peer) => ({ clientId: peer, ...this.advertised.get(peer)! }));
      messages.set(id, { roundId: this.roundId, roster, graphSeed, threshold: this.threshold, vectorLength: this.vectorLength, neighbours });
    }
    this.stageName = 'share-keys';
    return { status: 'continue', messages, dropped: [] };
  }

  // ---- stage 1: share keys ----

  acceptShareKeys(clientId: string, msg: ShareKeys): void {
    this.expect('share-keys', msg.roundId);
    if (!this.advertised.has(clientId)) throw new SecAggError('NOT_IN_ROUND', `${clientId} did not advertise keys`);
    if (this.shares.has(clientId)) throw new SecAggError('DUPLICATE', `${clientId} already shared keys`);
    const expected = this.neighboursOf(clientId);
    const byPeer = new Map<string, Sealed>();
    for (const s of msg.encryptedShares) byPeer.set(s.to, { nonce: s.nonce, ciphertext: s.ciphertext });
    if (byPeer.size !== msg.encryptedShares.length || byPeer.size !== expected.length || expected.some((id) => !byPeer.has(id))) {
      throw new SecAggError('BAD_SHARES', `${clientId} must send exactly one share pair to each of its ${expected.length} neighbours`);
    }
    this.shares.set(clientId, byPeer);
  }

  closeShareKeys(): SecAggAdvance<ForwardedShares> | SecAggAbandoned {
    this.expect('share-keys');
    // Keep only clients whose shares can be reconstructed: t-1 neighbours that also shared; repeat until stable.
    const alive = new Set(this.shares.keys());
    for (let changed = true; changed;) {
      changed = false;
      for (const id of alive) {
        if (this.aliveNeighbours(id, alive) + 1 < this.threshold) {
          alive.delete(id);
          changed = true;
        }
      }
    }
    if (alive.size < this.threshold) return this.abandon(`${alive.size} clients shared keys with enough neighbours, threshold ${this.threshold}`);
    this.stage1 = alive;
    const messages = new Map<string, ForwardedShares>();
    for (const id of alive) {
      const encryptedShares = this.neighboursOf(id)
        .filter((peer) => alive.has(peer))
        .map((peer) => ({ from: peer, ...this.shares.get(peer)!.get(id)! }));
      messages.set(id, { roundId: this.roundId, encryptedShares });
    }
    this.shares.clear();
    this.stageName = 'masked-input';
    return { status: 'continue', messages, dropped: [...this.advertised.keys()].filter((id) => !alive.has(id)).sort() };
  }

  // ---- stage 2: masked input ----

  acceptMaskedInput(clientId: string, msg: MaskedInput): void {
    this.expect('masked-input', msg.roundId);
    if (!this.stage1.has(clientId)) throw new SecAggError('NOT_IN_ROUND', `${clientId} did not complete share keys`);
    if (this.stage2.has(clientId)) throw new SecAggError('DUPLICATE', `${clientId} already sent its masked input`);
    if (msg.masked.length !== 4 * this.vectorLength) {
      throw new SecAggError('BAD_INPUT', `masked input of ${msg.masked.length} bytes, round wants ${4 * this.vectorLength}`);
    }
    this.maskedSum!.addBytes(msg.masked, 1);
    this.stage2.add(clientId);
  }

  closeMaskedInput(): SecAggAdvance<UnmaskRequest> | SecAggAbandoned {
    this.expect('masked-input');
    const survivors = this.stage2;
    const dropped = [...this.stage1].filter((id) => !survivors.has(id)).sort();
    // Refuse before anyone reveals a share: every self mask must be removable by t responders. A dropped peer's
    // pairwise masks are normally cancelled by its surviving neighbours' corrections; finish() checks the rest.
    const short = this.firstUnrecoverable(survivors, [], survivors);
    if (short) return this.abandon(short);
    this.droppedAfterShareKeys = dropped;
    const droppedSet = new Set(dropped);
    const messages = new Map<string, UnmaskRequest>();
    for (const id of [...survivors].sort()) {
      const peers = this.neighboursOf(id).filter((p) => this.stage1.has(p));
      const request: UnmaskRequest = {
        roundId: this.roundId,
        survivors: [id, ...peers.filter((p) => survivors.has(p))],
        dropped: peers.filter((p) => droppedSet.has(p)),
      };
      this.requests.set(id, request);
      messages.set(id, request);
    }
    this.stageName = 'unmask';
    return { status: 'continue', messages, dropped };
  }

  // ---- stage 3: unmasking ----

  acceptUnmaskResponse(clientId: string, msg: UnmaskResponse): void {
    this.expect('unmask', msg.roundId);
    const request = this.requests.get(clientId);
    if (!request) throw new SecAggError('NOT_IN_ROUND', `${clientId} was not asked to unmask`);
    if (this.responders.has(clientId)) throw new SecAggError('DUPLICATE', `${clientId} already answered`);
    // Exactly the asked ids, each once, each share SHARE_LENGTH bytes: checked by stamping the roster positions of the
    // asked ids and then of the answered ones (two fresh stamps a check), not with two Sets per reply (k + 1 entries
    // each), and not with asked.includes (O(k²) string compares: a sixth of the unmask stage at 1,000 clients).
    const same = (asked: readonly string[], got: ReadonlyArray<{ of: string; share: Uint8Array }>) => {
      if (asked.length !== got.length) return false;
      const want = ++this.stamp;
      const seen = ++this.stamp;
      for (const id of asked) this.stamps[this.position.get(id)!] = want;
      for (const { of, share } of got) {
        const at = this.position.get(of);
        if (at === undefined || this.stamps[at] !== want || share.length !== SHARE_LENGTH) return false;
        this.stamps[at] = seen;
      }
      return true;
    };
    if (!same(request.survivors, msg.seedShares) || !same(request.dropped, msg.keyShares)) {
      throw new SecAggError('BAD_SHARES', `${clientId} did not answer exactly the shares it was asked for`);
    }
    if (request.dropped.length > 0 && msg.correction?.length !== 4 * this.vectorLength) {
      throw new SecAggError(
        'BAD_INPUT',
        `${clientId} must send a correction of ${4 * this.vectorLength} bytes for its ${request.dropped.length} dropped neighbours`,
      );
    }
    if (request.dropped.length === 0 && msg.correction !== undefined)
      throw new SecAggError('BAD_INPUT', `${clientId} sent a correction with no dropped neighbours`);
    if (msg.correction) this.maskedSum!.addBytes(msg.correction, 1);
    // Shares are copied out of the message into one pile per secret (share-pile.ts): as views they would keep the
    // whole received packet, mask correction included, alive until the round ends.
    for (const { of, share } of msg.keyShares) pileOf(this.keyShares, of, this.neighboursOf(of).length).add(share);
    this.responders.add(clientId);
    // A survivor's self mask comes out as soon as t of its seed shares are in, while other replies are still on
    // their way, so finish() has (normally) no self mask left to expand after the last reply; its shares are then
    // let go, and later ones for it are not kept. Shares that do not reconstruct are left for finish(), which
    // abandons the round with the reason.
    for (const { of, share } of msg.seedShares) {
      if (this.selfMasksRemoved.has(of)) continue;
      const pile = pileOf(this.seedShares, of, this.neighboursOf(of).length + 1);
      pile.add(share);
      if (pile.count < this.threshold) continue;
      let seed: Uint8Array;
      try {
        seed = combineSharesSync(pile.shares(), this.threshold);
      } catch {
        continue;
      }
      addMask(this.maskedSum!, seed, -1);
      this.selfMasksRemoved.add(of);
      this.seedShares.delete(of);
    }
  }

  /** Survivors whose self mask is still in the sum (finish() removes them): 0 once every survivor has t replies. */
  get selfMasksPending(): number {
    return [...this.stage2].filter((id) => !this.selfMasksRemoved.has(id)).length;
  }

  /** Closes stage 3 with whoever answered: removes every mask and returns the sum, or abandons. */
  async finish(): Promise<SecAggOutcome> {
    this.expect('unmask');
    const needKeys = this.droppedAfterShareKeys.filter((id) => this.uncancelledPeers(id).length > 0);
    const short = this.firstUnrecoverable(this.stage2, needKeys, this.responders);
    if (short) return this.abandon(short);
    const sum = this.maskedSum!;
    for (const id of this.stage2) {
      if (this.selfMasksRemoved.has(id)) continue;
      const seed = await this.reconstruct(this.seedShares, id);
      if (!seed) return this.abandon(`self-mask seed of ${id} could not be reconstructed`);
      addMask(sum, seed, -1);
    }
    for (const id of this.droppedAfterShareKeys) {
      // Survivors that answered already cancelled their masks with `id` (their correction); only the pairs of
      // survivors that missed the unmask stage are left, and only for those is the dropped peer's key rebuilt.
      const uncancelled = this.uncancelledPeers(id);
      if (uncancelled.length === 0) continue;
      const secretKey = await this.reconstruct(this.keyShares, id);
      const mine = this.advertised.get(id)!;
      if (!secretKey || !constantTimeEqual(publicKeyOf(secretKey), mine.maskPublicKey)) {
        return this.abandon(`mask key of ${id} reconstructed from shares does not match its advertised key`);
      }
      for (const peer of uncancelled) {
        // The survivor added sign(peer, id) · PRG(s); take it back out.
        const seed = agreeKey('pairwise-mask', this.roundId, id, peer, secretKey, this.advertised.get(peer)!.maskPublicKey);
        addMask(sum, seed, pairwiseSign(peer, id) === 1 ? -1 : 1);
      }
    }
    this.stageName = 'completed';
    this.maskedSum = null;
    return { status: 'completed', sum: sum.toUint32Array(), contributors: [...this.stage2].sort(), droppedAfterShareKeys: [...this.droppedAfterShareKeys] };
  }

  /** Ends the round from outside (e.g. the coordinator gives up); further calls are refused. */
  abandon(reason: string): SecAggAbandoned {
    const result: SecAggAbandoned = { status: 'abandoned', stage: this.stageName, reason };
    this.abandonedWith = result;
    this.stageName = 'abandoned';
    this.maskedSum = null;
    this.seedShares.clear();
    this.keyShares.clear();
    return result;
  }

  get abandonment(): SecAggAbandoned | null {
    return this.abandonedWith;
  }

  /** Survivors masked with dropped `id` whose correction never came (they missed the unmask stage). */
  private uncancelledPeers(id: string): string[] {
    return this.neighboursOf(id).filter((peer) => this.stage2.has(peer) && !this.responders.has(peer));
  }

  private aliveNeighbours(id: string, alive: ReadonlySet<string>): number {
    return this.neighboursOf(id).reduce((n, p) => n + (alive.has(p) ? 1 : 0), 0);
  }

  /** A reason the sum cannot be unmasked when only `holders` reveal shares, or null. */
  private firstUnrecoverable(survivors: ReadonlySet<string>, dropped: readonly string[], holders: ReadonlySet<string>): string | null {
    if (survivors.size < this.threshold) return `${survivors.size} clients sent masked input, threshold ${this.threshold}`;
    for (const id of survivors) {
      const count = this.aliveNeighbours(id, holders) + (holders.has(id) ? 1 : 0);
      if (count < this.threshold) return `self mask of ${id}: ${count} share holders left, threshold ${this.threshold}`;
    }
    for (const id of dropped) {
      const count = this.aliveNeighbours(id, holders);
      if (count < this.threshold) return `pairwise masks of dropped ${id}: ${count} share holders left, threshold ${this.threshold}`;
    }
    return null;
  }

  private async reconstruct(piles: Map<string, SharePile>, id: string): Promise<Uint8Array | null> {
    try {
      return await combineShares(piles.get(id)?.shares() ?? [], this.threshold);
    } catch {
      return null;
    }
  }

  private expect(stage: SecAggServerStage, roundId?: number): void {
    if (roundId !== undefined && roundId !== this.roundId) {
      throw new SecAggError('WRONG_ROUND', `message for round ${roundId}, this is round ${this.roundId}`);
    }
    if (this.stageName !== stage) throw new SecAggError('WRONG_STAGE', `secagg round ${this.roundId} is at stage ${this.stageName}, not ${stage}`);
  }
}

/** The pile of `id`'s shares, made on its first share with room for `capacity`. */
function pileOf(piles: Map<string, SharePile>, id: string, capacity: number): SharePile {
  let pile = piles.get(id);
  if (!pile) piles.set(id, (pile = new SharePile(capacity)));
  return pile;
}
