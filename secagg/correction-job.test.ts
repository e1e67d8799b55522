import assert from 'node:assert/strict';
import type { ForwardedShares, Roster, UnmaskRequest } from '@fedrec/protocol';
import {
  aggregateErrorBounds,
  decodeAggregate,
  expandMask,
  expandMaskJob,
  pairwiseSign,
  runCorrectionJob,
  runCorrectionJobWith,
  SecAggClient,
  SecAggError,
  SecAggServer,
  webCryptoKeystream,
  type CorrectionJob,
} from './index.js';
import { bytesToUint32 } from './bytes.js';
import { config, contributions, encodeAll, ids, layout, maxAbsDiff, plainSums } from './testing/helpers.js';

const refusedWith = (reason: string) => (err: unknown) => err instanceof SecAggError && err.reason === reason;
const webCrypto = webCryptoKeystream(globalThis.crypto.subtle);

/**
 * A secagg round of 8 clients up to the unmask requests, `dropped` leaving after stage 1 (so every survivor's request
 * asks it for a correction); each survivor's pairwise seeds are kept from its mask job, to compute the correction
 * independently of the code under test.
 */
async function roundAtStage3(roundId: number, dropped: string[]) {
  const cfg = config({ mode: 'secagg' });
  const clients = ids(8);
  const server = new SecAggServer({ roundId, config: cfg, vectorLength: layout.vectorLength });
  const sessions = new Map(clients.map((id) => [id, new SecAggClient({ clientId: id, roundId, config: cfg, vectorLength: layout.vectorLength })]));
  for (const [id, c] of sessions) server.acceptAdvertisement(id, c.advertiseKeys());
  const rosters = server.closeAdvertisement() as { messages: Map<string, Roster> };
  for (const [id, roster] of rosters.messages) server.acceptShareKeys(id, await sessions.get(id)!.shareKeys(roster));
  const forwarded = (server.closeShareKeys() as { messages: Map<string, ForwardedShares> }).messages;
  const cs = contributions(clients, 3);
  const inputs = encodeAll(cs, cfg);
  const seeds = new Map<string, Map<string, Uint8Array>>();
  for (const [id, shares] of forwarded) {
    if (dropped.includes(id)) continue;
    await sessions.get(id)!.receiveSharesWith(shares, async (job) => {
      const expanded = expandMaskJob(job);
      seeds.set(id, new Map(job.peers.map((p, i) => [p.clientId, Uint8Array.from(expanded.pairwiseSeeds[i]!)])));
      return expanded;
    });
    server.acceptMaskedInput(id, sessions.get(id)!.maskInput(inputs.get(id)!));
  }
  const requests = server.closeMaskedInput();
  assert.equal(requests.status, 'continue');
  const messages = (requests as { messages: Map<string, UnmaskRequest> }).messages;
  /** What main's unmask computed: this client's pairwise masks with the dropped peers, cancelled. */
  const expected = (id: string) => {
    const words = new Uint32Array(layout.vectorLength);
    for (const peer of messages.get(id)!.dropped) {
      const mask = expandMask(seeds.get(id)!.get(peer)!, layout.vectorLength);
      const cancel = pairwiseSign(id, peer) === 1 ? -1 : 1;
      for (let i = 0; i < words.length; i++) words[i] = (words[i]! + cancel * mask[i]!) >>> 0;
    }
    return words;
  };
  return { cfg, clients, server, sessions, cs, requests: messages, expected };
}

describe('secagg correction jobs (stage 3 correction handed to another thread)', () => {
  it('survivors answering through unmask, unmaskWith on this thread and unmaskWith on WebCrypto keystreams give the same corrections, and the round unmasks to the plain sums', async () => {
    const dropped = ['client-002', 'client-005'];
    const { cfg, clients, server, sessions, cs, requests, expected } = await roundAtStage3(11, dropped);
    const survivors = clients.filter((id) => !dropped.includes(id));
    const jobs: CorrectionJob[] = [];
    for (const [i, id] of survivors.entries()) {
      const client = sessions.get(id)!;
      const request = requests.get(id)!;
      assert.deepEqual([...request.dropped].sort(), dropped);
      const path = i % 3;
      const reply =
        path === 0
          ? client.unmask(request)
          : await client.unmaskWith(request, async (job) => {
              assert.equal(client.stage, 'correcting');
              // The client has forgotten its secrets before the job runs: the job carries its own copies of the seeds.
              assert.deepEqual(client.shareHolders, []);
              jobs.push(job);
              return path === 1 ? runCorrectionJob(job) : runCorrectionJobWith(job, webCrypto);
            });
      assert.equal(client.stage, 'done');
      assert.deepEqual(bytesToUint32(reply.correction!), expected(id), `${id} on path ${path}`);
      server.acceptUnmaskResponse(id, reply);
    }
    assert.equal(jobs.length, survivors.length - Math.ceil(survivors.length / 3));
    assert.ok(jobs.every((j) => j.vectorLength === layout.vectorLength && j.masks.length === dropped.length));
    const outcome = await server.finish();
    assert.equal(outcome.status, 'completed');
    const sums = decodeAggregate(outcome.status === 'completed' ? outcome.sum : new Uint32Array(), survivors.length, layout, cfg);
    assert.ok(maxAbsDiff(sums.weightedDeltaSum, plainSums(cs, survivors).weightedDeltaSum) <= aggregateErrorBounds(survivors.length, cfg).weightedDelta);
  });

  it('runCorrectionJob and runCorrectionJobWith give the same bytes past the keystream chunks, one whole keystream per dropped peer', async () => {
    const requested: number[] = [];
    const job: CorrectionJob = {
      vectorLength: 70_001, // past the PRG's 64 KiB chunks, not whole AES blocks
      masks: [1, -1, -1].map((sign, m) => ({ seed: Uint8Array.from({ length: 32 }, (_, i) => 7 * i + m), sign: sign as 1 | -1 })),
    };
    const viaKeystream = await runCorrectionJobWith(job, (seed, bytes) => (requested.push(bytes), webCrypto(seed, bytes)));
    const here = runCorrectionJob(job);
    assert.equal(here.length, 4 * 70_001);
    assert.deepEqual(viaKeystream, here);
    assert.deepEqual(requested, [280_004, 280_004, 280_004]);
    const [a, b, c] = job.masks.map((m) => expandMask(m.seed, 70_001));
    assert.deepEqual(
      bytesToUint32(here),
      a!.map((w, i) => (w - b![i]! - c![i]!) >>> 0),
    );
  });

  it('unmaskWith refuses every bad request as unmask does, before any job runs', async () => {
    const { sessions, requests } = await roundAtStage3(12, ['client-001']);
    let ran = 0;
    const run = async (job: CorrectionJob) => (ran++, runCorrectionJob(job));
    const fair = requests.get('client-000')!;
    const cases: Array<[string, string, UnmaskRequest]> = [
      ['client-000', 'WRONG_ROUND', { ...fair, roundId: 13 }],
      ['client-002', 'DUPLICATE', { ...requests.get('client-002')!, dropped: ['client-001', 'client-001'] }],
      ['client-003', 'BOTH_SHARES_REQUESTED', { ...requests.get('client-003')!, dropped: ['client-001', 'client-004'] }],
      [
        'client-004',
        'UNEXPECTED_PEER',
        { ...requests.get('client-004')!, survivors: requests.get('client-004')!.survivors.filter((id) => id !== 'client-004') },
      ],
      ['client-005', 'UNEXPECTED_PEER', { ...requests.get('client-005')!, dropped: ['client-001', 'stranger'] }],
      ['client-006', 'BELOW_THRESHOLD', { ...requests.get('client-006')!, survivors: ['client-006', 'client-007'] }],
    ];
    for (const [id, reason, request] of cases) {
      await assert.rejects(sessions.get(id)!.unmaskWith(request, run), refusedWith(reason), `${id}: ${reason}`);
      assert.equal(sessions.get(id)!.stage, 'aborted');
      assert.deepEqual(sessions.get(id)!.shareHolders, [], `${id} forgot its shares`);
    }
    // A client asked twice: the second request is refused at the wrong stage, and again no job runs for it.
    await sessions.get('client-007')!.unmaskWith(requests.get('client-007')!, run);
    assert.equal(ran, 1);
    await assert.rejects(sessions.get('client-007')!.unmaskWith(requests.get('client-007')!, run), refusedWith('WRONG_STAGE'));
    assert.equal(ran, 1, 'no job for a refused request');
  });

  it('no job when nothing dropped; a failed job aborts the client with its error, its secrets gone; a correction that does not fit is refused', async () => {
    const { sessions, requests } = await roundAtStage3(14, ['client-003']);
    const none = await roundAtStage3(15, []);
    const reply = await none.sessions.get('client-000')!.unmaskWith(none.requests.get('client-000')!, () => assert.fail('no job when nothing dropped'));
    assert.equal(reply.correction, undefined);
    assert.equal(none.sessions.get('client-000')!.stage, 'done');

    const died = new Error('mask worker exited with code 1');
    const failing = sessions.get('client-000')!;
    await assert.rejects(
      failing.unmaskWith(requests.get('client-000')!, () => Promise.reject(died)),
      (err) => err === died,
    );
    assert.equal(failing.stage, 'aborted');
    assert.deepEqual(failing.shareHolders, []);
    await assert.rejects(
      failing.unmaskWith(requests.get('client-000')!, () => assert.fail('no job')),
      refusedWith('WRONG_STAGE'),
    );

    const short = sessions.get('client-001')!;
    await assert.rejects(
      short.unmaskWith(requests.get('client-001')!, async (job) => runCorrectionJob(job).subarray(4)),
      refusedWith('BAD_INPUT'),
    );
    assert.equal(short.stage, 'aborted');

    // While its job is out the client is at 'correcting': a second request is refused and changes nothing.
    const waiting = sessions.get('client-002')!;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const answering = waiting.unmaskWith(requests.get('client-002')!, async (job) => {
      await held;
      return runCorrectionJob(job);
    });
    assert.equal(waiting.stage, 'correcting');
    await assert.rejects(
      waiting.unmaskWith(requests.get('client-002')!, () => assert.fail('no job')),
      refusedWith('WRONG_STAGE'),
    );
    assert.equal(waiting.stage, 'correcting');
    release();
    assert.equal((await answering).correction?.length, 4 * layout.vectorLength);
    assert.equal(waiting.stage, 'done');
  });
});
