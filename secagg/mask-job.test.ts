import assert from 'node:assert/strict';
import type { ForwardedShares } from '@fedrec/protocol';
import {
  aggregateErrorBounds,
  decodeAggregate,
  expandMaskJob,
  expandMaskJobWith,
  generateKeyPair,
  SecAggClient,
  SecAggError,
  SecAggServer,
  type MaskJob,
  type MaskKeystream,
  webCryptoKeystream,
  webCryptoX25519,
} from './index.js';
import { config, contributions, encodeAll, ids, layout, maxAbsDiff, plainSums } from './testing/helpers.js';

const refusedWith = (reason: string) => (err: unknown) => err instanceof SecAggError && err.reason === reason;

/** A secagg+ round up to the forwarded shares: the server and every client's session. */
async function roundAtStage2(roundId: number) {
  const cfg = config({ mode: 'secagg+', neighbours: 4 });
  const clients = ids(8);
  const server = new SecAggServer({ roundId, config: cfg, vectorLength: layout.vectorLength });
  const sessions = new Map(clients.map((id) => [id, new SecAggClient({ clientId: id, roundId, config: cfg, vectorLength: layout.vectorLength })]));
  for (const [id, c] of sessions) server.acceptAdvertisement(id, c.advertiseKeys());
  const rosters = server.closeAdvertisement();
  assert.equal(rosters.status, 'continue');
  for (const [id, roster] of rosters.status === 'continue' ? rosters.messages : []) server.acceptShareKeys(id, await sessions.get(id)!.shareKeys(roster));
  const forwarded = server.closeShareKeys();
  assert.equal(forwarded.status, 'continue');
  return { cfg, clients, server, sessions, forwarded: (forwarded as { messages: Map<string, ForwardedShares> }).messages };
}

describe('secagg mask jobs (the mask work handed to another thread)', () => {
  it('a round whose clients expand their masks through receiveSharesWith unmasks to the plain sums', async () => {
    const { cfg, clients, server, sessions, forwarded } = await roundAtStage2(4);
    const cs = contributions(clients, 5);
    const inputs = encodeAll(cs, cfg);
    const jobs: MaskJob[] = [];
    await Promise.all(
      [...forwarded].map(([id, shares]) =>
        sessions.get(id)!.receiveSharesWith(shares, async (job) => {
          assert.equal(sessions.get(id)!.stage, 'expanding');
          jobs.push(job);
          return expandMaskJob(job);
        }),
      ),
    );
    assert.equal(jobs.length, clients.length);
    assert.ok(jobs.every((j) => j.peers.length === 4 && j.vectorLength === layout.vectorLength));
    for (const [id, c] of sessions) server.acceptMaskedInput(id, c.maskInput(inputs.get(id)!));
    const requests = server.closeMaskedInput();
    assert.equal(requests.status, 'continue');
    for (const [id, request] of requests.status === 'continue' ? requests.messages : []) server.acceptUnmaskResponse(id, sessions.get(id)!.unmask(request));
    const outcome = await server.finish();
    assert.equal(outcome.status, 'completed');
    const sums = decodeAggregate(outcome.status === 'completed' ? outcome.sum : new Uint32Array(), clients.length, layout, cfg);
    const plain = plainSums(cs, clients);
    assert.ok(maxAbsDiff(sums.weightedDeltaSum, plain.weightedDeltaSum) <= aggregateErrorBounds(clients.length, cfg).weightedDelta);
  });

  it('a failed expansion aborts the client (refused when a key was bad), a mask that does not fit the job is refused, and nothing masks while it expands', async () => {
    const { sessions, forwarded } = await roundAtStage2(5);
    const [a, b, c, d] = [...sessions.keys()];
    await assert.rejects(
      sessions.get(a!)!.receiveSharesWith(forwarded.get(a!)!, async () => Promise.reject(new RangeError('low-order key'))),
      (err: unknown) => refusedWith('BAD_ROSTER')(err) && /low-order key/.test((err as Error).message),
    );
    assert.equal(sessions.get(a!)!.stage, 'aborted');
    const died = new Error('mask worker exited with code 1');
    await assert.rejects(
      sessions.get(d!)!.receiveSharesWith(forwarded.get(d!)!, async () => Promise.reject(died)),
      (err: unknown) => err === died,
    );
    assert.equal(sessions.get(d!)!.stage, 'aborted');
    await assert.rejects(
      sessions.get(b!)!.receiveSharesWith(forwarded.get(b!)!, async (job) => ({ ...expandMaskJob(job), mask: new Uint32Array(3) })),
      refusedWith('BAD_INPUT'),
    );
    assert.equal(sessions.get(b!)!.stage, 'aborted');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const expanding = sessions.get(c!)!.receiveSharesWith(forwarded.get(c!)!, async (job) => {
      await held;
      return expandMaskJob(job);
    });
    assert.throws(() => sessions.get(c!)!.maskInput(new Uint32Array(layout.vectorLength)), refusedWith('WRONG_STAGE'));
    release();
    await expanding;
    assert.equal(sessions.get(c!)!.stage, 'masked-input');
  });

  it('expandMaskJobWith on WebCrypto keystreams (and X25519) gives the mask and seeds of expandMaskJob; a refused key is still a RangeError', async () => {
    // The browser worker's keystream (webCryptoKeystream) on Node's WebCrypto here, the browser's there.
    const shipped = webCryptoKeystream(globalThis.crypto.subtle);
    const requested: number[] = [];
    const keystream: MaskKeystream = (seed, bytes) => {
      requested.push(bytes);
      return shipped(seed, bytes);
    };
    const job: MaskJob = {
      roundId: 9,
      clientId: 'client-003',
      vectorLength: 70_001, // past the PRG's 64 KiB chunks, not whole AES blocks
      selfMaskSeed: Uint8Array.from({ length: 32 }, (_, i) => 3 * i + 5),
      maskSecretKey: generateKeyPair().secretKey,
      peers: ['client-001', 'client-007', 'client-002'].map((clientId) => ({ clientId, maskPublicKey: generateKeyPair().publicKey })),
    };
    const [viaKeystream, here] = [await expandMaskJobWith(job, keystream), expandMaskJob(job)];
    assert.deepEqual(viaKeystream.mask, here.mask);
    assert.deepEqual(viaKeystream.pairwiseSeeds, here.pairwiseSeeds);
    assert.deepEqual(requested, [280_004, 280_004, 280_004, 280_004], 'one whole keystream per seed: self and three peers');
    const lowOrder = { ...job, peers: [{ clientId: 'client-000', maskPublicKey: new Uint8Array(32) }] };
    await assert.rejects(expandMaskJobWith(lowOrder, keystream), (err) => err instanceof RangeError && /low-order/.test(err.message));
    // With the agreements from WebCrypto's X25519 too (the browser worker's path when it has it): the same again.
    const x25519 = await webCryptoX25519(globalThis.crypto.subtle);
    assert.ok(x25519, 'X25519 in Node’s WebCrypto');
    const viaWebCrypto = await expandMaskJobWith(job, keystream, x25519);
    assert.deepEqual(viaWebCrypto.mask, here.mask);
    assert.deepEqual(viaWebCrypto.pairwiseSeeds, here.pairwiseSeeds);
    await assert.rejects(expandMaskJobWith(lowOrder, keystream, x25519), (err) => err instanceof RangeError && /low-order/.test(err.message));
  });
});
