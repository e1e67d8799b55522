import nacl from 'tweetnacl';
import { uint32ToBytes } from './bytes.js';
import { neighbourCount, roundInfeasibility, thresholdFor } from './config.js';
import { type SecAggConfig } from '@fedrec/protocol';
import { SecAggError } from './errors.js';
import { neighboursOfClient } from './graph.js';
import { generateKeyPair, pairwiseSign, type KeyPair } from './key-agreement.js';
import { expandMaskJob, type ExpandedMask, type MaskJob } from './mask-job.js';
import type { AdvertiseKeys, ForwardedShares, MaskedInput, Roster, ShareKeys, UnmaskRequest, UnmaskResponse } from '@fedrec/protocol';
import { runCorrectionJob, type CorrectionJob } from './correction-job.js';
import { scratchWordSum } from './word-sum.js';
import { SEED_LENGTH } from '@fedrec/protocol';
import { openShares, type SharePair } from './share-cipher.js';
import { runShareJob, sharedKeysMisfit, type SharedKeys, type ShareJob } from './share-job.js';

export interface SecAggClientOptions {
  clientId: string;
  roundId: number;
  config: SecAggConfig;
  /** Length in uint32 words of the vector this client will mask (contributionLayout(manifest).vectorLength). */
  vectorLength: number;
}

export type SecAggClientStage =
  'advertise' | 'share-keys' | 'sharing' | 'receive-shares' | 'expanding' | 'masked-input' | 'unmask' | 'correcting' | 'done' | 'aborted';

interface Peer {
  cipherPublicKey: Uint8Array;
  maskPublicKey: Uint8Array;
}

/**
 * One client's side of one secure-aggregation round (Bonawitz et al. 2017; SecAgg+ when the
 * config says so). Each method is one stage: it takes the server's message and returns the
 * client's reply. Any refusal aborts the client for good (a server that misbehaves once gets nothing more).
 */
export class SecAggClient {
  readonly clientId: string;
  readonly roundId: number;
  private readonly config: SecAggConfig;
  private readonly vectorLength: number;
  private stageName: SecAggClientStage = 'advertise';
  private cipherKeys: KeyPair | null = null;
  private maskKeys: KeyPair | null = null;
  private threshold = 0;
  private neighbours = new Map<string, Peer>();
  private shareKeysByPeer = new Map<string, Uint8Array>();
  private ownShares: SharePair | null = null;
  private selfMaskSeed: Uint8Array | null = null;
  /** Shares neighbours gave this client; their keys are the peers that survived stage 1. */
  private heldShares = new Map<string, SharePair>();
  private mask: Uint32Array | null = null;
  /** Pairwise mask seeds agreed in stage 2, kept for stage 3's correction (no second X25519 per dropped peer). */
  private pairwiseSeeds = new Map<string, Uint8Array>();

  constructor(options: SecAggClientOptions) {
    if (options.config.mode === 'off') throw new RangeError('SecAggClient needs mode secagg or secagg+');
    this.clientId = options.clientId;
    this.roundId = options.roundId;
    this.config = options.config;
    this.vectorLength = options.vectorLength;
  }

  get stage(): SecAggClientStage {
    return this.stageName;
  }

  /** Peers this client holds shares for (its neighbours that completed stage 1). */
  get shareHolders(): string[] {
    return [...this.heldShares.keys()];
  }

  /** Stage 0: fresh key pairs for this round, one to encrypt shares, one to agree masks. */
  advertiseKeys(): AdvertiseKeys {
    this.expect('advertise');
    this.cipherKeys = generateKeyPair();
    this.maskKeys = generateKeyPair();
    this.stageName = 'share-keys';
    return { roundId: this.roundId, cipherPublicKey: this.cipherKeys.publicKey, maskPublicKey: this.maskKeys.publicKey };
  }

  /** Stage 1: checks the roster, Shamir-shares the self-mask seed and the mask secret key, encrypts one pair per neighbour. */
  async shareKeys(roster: Roster): Promise<ShareKeys> {
    return this.shareKeysWith(roster, runShareJob);
  }

  /**
   * shareKeys with the share work (`runShareJob` of the job it is given: k agreements, two Shamir splits, k seals)
   * done by `run`, e.g. on the device's mask worker while it trains. The roster checks and the drawing of the
   * secrets happen here first. Same contract as receiveSharesWith: a RangeError from `run` (a neighbour key X25519
   * refuses) is refused as BAD_ROSTER; any other failure (the thread died) aborts the client and is rethrown as it
   * is; a result that does not fit the job is refused.
   */
  async shareKeysWith(roster: Roster, run: (job: ShareJob) => Promise<SharedKeys>): Promise<ShareKeys> {
    const job = this.checkRoster(roster);
    const shared = await this.awaitJob(job, run);
    // Checked again after the wait, as takeMask does: a client that left 'sharing' meanwhile takes nothing.
    this.expect('sharing');
    const misfit = sharedKeysMisfit(job, shared);
    if (misfit) this.refuse('BAD_INPUT', misfit);
    job.peers.forEach(({ clientId }, i) => this.shareKeysByPeer.set(clientId, shared.shareKeys[i]!));
    this.ownShares = shared.ownShares;
    this.stageName = 'receive-shares';
    return { roundId: this.roundId, encryptedShares: shared.encryptedShares };
  }

  /** Checks the roster, keeps the neighbours' keys and draws the self-mask seed; the client then waits at 'sharing'. */
  private checkRoster(roster: Roster): ShareJob {
    this.expect('share-keys');
    this.checkRound(roster.roundId);
    const ids = roster.roster;
    if (!ids.includes(this.clientId)) this.refuse('BAD_ROSTER', 'roster does not include this client');
    for (let i = 1; i < ids.length; i++) if (!(ids[i - 1]! < ids[i]!)) this.refuse('BAD_ROSTER', 'roster is not sorted and unique');
    const infeasible = roundInfeasibility(this.config, ids.length);
    if (infeasible) this.refuse('BAD_ROSTER', infeasible);
    if (roster.vectorLength !== this.vectorLength) this.refuse('BAD_ROSTER', `vector length ${roster.vectorLength}, this client masks ${this.vectorLength}`);
    const k = neighbourCount(this.config, ids.length);
    const expected = neighboursOfClient(ids, k, roster.graphSeed, this.clientId);
    const t = thresholdFor(this.config, k + 1, ids.length);
    if (roster.threshold !== t) this.refuse('BAD_ROSTER', `server threshold ${roster.threshold}, config gives ${t}`);
    const given = [...roster.neighbours].map((n) => n.clientId).sort();
    if (given.length !== expected.length || given.some((id, i) => id !== expected[i])) {
      this.refuse('BAD_ROSTER', 'neighbour keys do not match the graph derived from roster and seed');
    }
    // Distinct keys: a server that replays one key as another's cannot make masks cancel or collide. A Set of the keys'
    // bytes as strings, not pairwise compares: those were O(k²) (8,800 compares of 32 bytes at k = 66), and public
    // keys need no constant-time comparison.
    const seen = new Set([keyString(this.cipherKeys!.publicKey), keyString(this.maskKeys!.publicKey)]);
    for (const n of roster.neighbours) {
      for (const key of [n.cipherPublicKey, n.maskPublicKey]) {
        const s = keyString(key);
        if (seen.has(s)) this.refuse('BAD_ROSTER', 'public keys in the roster are not distinct');
        seen.add(s);
      }
      this.neighbours.set(n.clientId, { cipherPublicKey: n.cipherPublicKey, maskPublicKey: n.maskPublicKey });
    }
    this.threshold = t;
    this.selfMaskSeed = nacl.randomBytes(SEED_LENGTH);
    this.stageName = 'sharing';
    return {
      roundId: this.roundId,
      clientId: this.clientId,
      cipherSecretKey: this.cipherKeys!.secretKey,
      selfMaskSeed: this.selfMaskSeed,
      maskSecretKey: this.maskKeys!.secretKey,
      threshold: t,
      peers: expected.map((peerId) => ({ clientId: peerId, cipherPublicKey: this.neighbours.get(peerId)!.cipherPublicKey })),
    };
  }

  /**
   * Stage 2, first half: decrypts the shares neighbours sent and expands this client's total mask
   * (self mask plus ± pairwise masks with every neighbour that survived stage 1). Needs no input,
   * so it can run while the client is still training.
   */
  receiveShares(forwarded: ForwardedShares): void {
    const job = this.openForwarded(forwarded);
    let expanded: ExpandedMask;
    try {
      expanded = expandMaskJob(job);
    } catch (err) {
      this.refuse('BAD_ROSTER', err instanceof Error ? err.message : String(err));
    }
    this.takeMask(job, expanded);
  }

  /**
   * receiveShares with the mask work (`expandMaskJob` of the job it is given) done by `expand`, e.g. on another
   * thread while the device trains. The client waits at stage 'expanding' meanwhile. A RangeError from `expand` (a
   * neighbour key X25519 refuses, as expandMaskJob throws it) is refused like in receiveShares; any other failure
   * (the thread died) aborts the client and is rethrown as it is; a result that does not fit the job is refused.
   */
  async receiveSharesWith(forwarded: ForwardedShares, expand: (job: MaskJob) => Promise<ExpandedMask>): Promise<void> {
    const job = this.openForwarded(forwarded);
    this.takeMask(job, await this.awaitJob(job, expand));
  }

  /**
   * A job run elsewhere (shareKeysWith, receiveSharesWith): a RangeError (X25519 refused a neighbour key) is refused
   * as BAD_ROSTER; any other failure aborts the client and is rethrown as it is.
   */
  private async awaitJob<J, R>(job: J, run: (job: J) => Promise<R>): Promise<R> {
    try {
      return await run(job);
    } catch (err) {
      if (err instanceof RangeError) this.refuse('BAD_ROSTER', err.message);
      this.stageName = 'aborted';
      this.forget();
      throw err;
    }
  }

  /** Opens the forwarded shares and describes the mask they call for; the client then waits at 'expanding'. */
  private openForwarded(forwarded: ForwardedShares): MaskJob {
    this.expect('receive-shares');
    this.checkRound(forwarded.roundId);
    for (const { from, nonce, ciphertext } of forwarded.encryptedShares) {
      const key = this.shareKeysByPeer.get(from);
      if (!key) this.refuse('UNEXPECTED_PEER', `shares from ${from}, who is not a neighbour`);
      if (this.heldShares.has(from)) this.refuse('DUPLICATE', `two share pairs from ${from}`);
      const pair = openShares(key, { roundId: this.roundId, from, to: this.clientId }, nonce, ciphertext);
      if (!pair) this.refuse('BAD_SHARES', `shares from ${from} fail authentication or are bound elsewhere`);
      this.heldShares.set(from, pair);
    }
    if (this.heldShares.size + 1 < this.threshold) {
      this.refuse('BELOW_THRESHOLD', `${this.heldShares.size} neighbours left after stage 1, threshold ${this.threshold} needs ${this.threshold - 1}`);
    }
    this.stageName = 'expanding';
    return {
      roundId: this.roundId,
      clientId: this.clientId,
      vectorLength: this.vectorLength,
      selfMaskSeed: this.selfMaskSeed!,
      maskSecretKey: this.maskKeys!.secretKey,
      peers: [...this.heldShares.keys()].map((peerId) => ({ clientId: peerId, maskPublicKey: this.neighbours.get(peerId)!.maskPublicKey })),
    };
  }

  private takeMask(job: MaskJob, expanded: ExpandedMask): void {
    // A round abandoned meanwhile (forget() ran) leaves the client elsewhere: the expansion is simply dropped.
    this.expect('expanding');
    if (expanded.mask.length !== this.vectorLength || expanded.pairwiseSeeds.length !== job.peers.length) {
      this.refuse(
        'BAD_INPUT',
        `expanded mask of ${expanded.mask.length} words and ${expanded.pairwiseSeeds.length} seeds, job wants ${this.vectorLength} and ${job.peers.length}`,
      );
    }
    job.peers.forEach(({ clientId }, i) => this.pairwiseSeeds.set(clientId, expanded.pairwiseSeeds[i]!));
    this.mask = expanded.mask;
    this.stageName = 'masked-input';
  }

  /** Stage 2, second half: the quantized input (encodeContribution) plus the mask, modulo 2^32. */
  maskInput(input: Uint32Array): MaskedInput {
    this.expect('masked-input');
    if (input.length !== this.vectorLength) this.refuse('BAD_INPUT', `input has ${input.length} words, round masks ${this.vectorLength}`);
    // Summed in the scratch sum and written back over the mask: the reply needs no fresh vector-sized buffer.
    const mask = this.mask!;
    const sum = scratchWordSum(this.vectorLength);
    sum.addWords(mask, 1);
    sum.addWords(input, 1);
    sum.copyTo(mask);
    this.mask = null;
    this.stageName = 'unmask';
    return { roundId: this.roundId, masked: uint32ToBytes(mask) };
  }

  /**
   * Stage 3: reveals seed shares of survivors and mask-key shares of peers that dropped after stage 1 —
   * never both for one peer, never a key share of a peer it did not mask with, and only once.
   */
  unmask(request: UnmaskRequest): UnmaskResponse {
    const { reply, job } = this.openUnmask(request);
    return job ? { ...reply, correction: runCorrectionJob(job) } : reply;
  }

  /**
   * unmask with the correction (`runCorrectionJob` of the job it is given) made by `run`, e.g. on the device's mask
   * worker. Every check of the request runs here first, with the same refusals as unmask, before any job; the client
   * forgets its secrets before the wait (the job holds copies of the seeds it needs) and waits at 'correcting'. No job
   * when nothing dropped. A failed job (the thread died) aborts the client and is rethrown as it is, as a failed mask
   * job does; a correction that does not fit the job is refused.
   */
  async unmaskWith(request: UnmaskRequest, run: (job: CorrectionJob) => Promise<Uint8Array>): Promise<UnmaskResponse> {
    const { reply, job } = this.openUnmask(request);
    if (!job) return reply;
    this.stageName = 'correcting';
    let correction: Uint8Array;
    try {
      correction = await run(job);
    } catch (err) {
      this.stageName = 'aborted';
      throw err;
    }
    this.expect('correcting');
    if (!(correction instanceof Uint8Array) || correction.length !== job.vectorLength * 4) {
      this.refuse('BAD_INPUT', `correction of ${correction?.length} bytes, job wants ${job.vectorLength * 4}`);
    }
    this.stageName = 'done';
    return { ...reply, correction };
  }

  /**
   * Checks an unmask request and answers its shares; the correction it calls for (its own pairwise masks with the
   * dropped peers) comes back as a job with copies of their seeds, and the client has forgotten its secrets.
   */
  private openUnmask(request: UnmaskRequest): { reply: UnmaskResponse; job?: CorrectionJob } {
    this.expect('unmask');
    this.checkRound(request.roundId);
    const survivors = new Set(request.survivors);
    const dropped = new Set(request.dropped);
    if (survivors.size !== request.survivors.length || dropped.size !== request.dropped.length) this.refuse('DUPLICATE', 'repeated peer in unmask request');
    for (const id of dropped) {
      if (survivors.has(id)) this.refuse('BOTH_SHARES_REQUESTED', `server asked for both the seed share and the key share of ${id}`);
    }
    if (!survivors.has(this.clientId) || dropped.has(this.clientId)) this.refuse('UNEXPECTED_PEER', 'server does not count this client as a survivor');
    for (const id of [...survivors, ...dropped]) {
      if (id !== this.clientId && !this.heldShares.has(id)) this.refuse('UNEXPECTED_PEER', `${id} did not share keys with this client in stage 1`);
    }
    if (survivors.size < this.threshold) this.refuse('BELOW_THRESHOLD', `${survivors.size} survivors in this neighbourhood, threshold ${this.threshold}`);
    const seedShares = [...survivors].map((of) => ({ of, share: of === this.clientId ? this.ownShares!.seedShare : this.heldShares.get(of)!.seedShare }));
    const keyShares = [...dropped].map((of) => ({ of, share: this.heldShares.get(of)!.keyShare }));
    // Cheap unmasking: this client cancels its own pairwise masks with the dropped peers (the server learns no
    // more than from their rebuilt keys, and n devices expand these masks in parallel instead of the server alone).
    // Every dropped peer asked about is one this client held shares of, so it masked with it in stage 2. The seeds
    // are copied: forget() below drops the client's.
    const masks = [...dropped].map((peerId) => ({
      seed: Uint8Array.from(this.pairwiseSeeds.get(peerId)!),
      sign: pairwiseSign(this.clientId, peerId) === 1 ? (-1 as const) : (1 as const),
    }));
    this.forget();
    this.stageName = 'done';
    const reply = { roundId: this.roundId, seedShares, keyShares };
    return masks.length > 0 ? { reply, job: { vectorLength: this.vectorLength, masks } } : { reply };
  }

  private expect(stage: SecAggClientStage): void {
    if (this.stageName !== stage) {
      throw new SecAggError('WRONG_STAGE', `secagg client ${this.clientId} is at stage ${this.stageName}, not ${stage}`);
    }
  }

  private checkRound(roundId: number): void {
    if (roundId !== this.roundId) this.refuse('WRONG_ROUND', `message for round ${roundId}, this client is in round ${this.roundId}`);
  }

  private refuse(reason: ConstructorParameters<typeof SecAggError>[0], message: string): never {
    this.stageName = 'aborted';
    this.forget();
    throw new SecAggError(reason, message);
  }

  /** Drops secrets once they can no longer be asked for. */
  private forget(): void {
    this.heldShares.clear();
    this.ownShares = null;
    this.selfMaskSeed = null;
    this.mask = null;
    this.shareKeysByPeer.clear();
    this.pairwiseSeeds.clear();
  }
}

/** A public key's bytes as a string (one char per byte), to find repeats with a Set. */
function keyString(key: Uint8Array): string {
  return String.fromCharCode(...key);
}
