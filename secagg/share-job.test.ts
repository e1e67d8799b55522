import assert from 'node:assert/strict';
import type { Roster } from '@fedrec/protocol';
import {
  agreeKey,
  combineShares,
  generateKeyPair,
  openShares,
  runShareJob,
  SecAggClient,
  SecAggError,
  SecAggServer,
  type ShareJob,
  webCryptoX25519,
} from './index.js';
import { config, ids } from './testing/helpers.js';

const refusedWith = (reason: string) => (err: unknown) => err instanceof SecAggError && err.reason === reason;

/** A secagg+ round at stage 1: every client has advertised and holds its roster. */
function roundAtStage1(roundId: number) {
  const cfg = config({ mode: 'secagg+', neighbours: 4 });
  const server = new SecAggServer({ roundId, config: cfg, vectorLength: 8 });
  const sessions = new Map(ids(10).map((id) => [id, new SecAggClient({ clientId: id, roundId, config: cfg, vectorLength: 8 })]));
  for (const [id, c] of sessions) server.acceptAdvertisement(id, c.advertiseKeys());
  const rosters = server.closeAdvertisement();
  assert.equal(rosters.status, 'continue');
  return { sessions, rosters: (rosters as { messages: Map<string, Roster> }).messages };
}

/** Client-000's share job in round `roundId` with k neighbours (threshold 3), and the neighbours' and its cipher keys. */
function shareJobOf(roundId: number, k: number) {
  const peers = Array.from({ length: k }, (_, i) => ({ clientId: `client-00${i + 1}`, keys: generateKeyPair() }));
  const cipher = generateKeyPair();
  const job: ShareJob = {
    roundId,
    clientId: 'client-000',
    cipherSecretKey: cipher.secretKey,
    selfMaskSeed: new Uint8Array(32).map((_, i) => i + roundId),
    maskSecretKey: generateKeyPair().secretKey,
    threshold: 3,
    peers: peers.map((p) => ({ clientId: p.clientId, cipherPublicKey: p.keys.publicKey })),
  };
  return { job, peers, cipher };
}

describe('secagg share jobs (the stage-1 work handed to another thread)', () => {
  it('a share job seals one pair per neighbour that its neighbour opens, and any threshold of shares rebuilds both secrets', async () => {
    const { job, peers, cipher } = shareJobOf(3, 4);
    const shared = await runShareJob(job);
    assert.deepEqual(
      shared.encryptedShares.map((s) => s.to),
      peers.map((p) => p.clientId),
    );
    const opened = peers.map((p, i) => {
      // The peer's side of the agreement: the same key the job reports for it, and it opens the sealed pair.
      const key = agreeKey('share-encryption', 3, p.clientId, 'client-000', p.keys.secretKey, cipher.publicKey);
      assert.deepEqual(key, shared.shareKeys[i]);
      const { nonce, ciphertext } = shared.encryptedShares[i]!;
      const pair = openShares(key, { roundId: 3, from: 'client-000', to: p.clientId }, nonce, ciphertext);
      assert.ok(pair, `the pair for ${p.clientId} opens`);
      return pair;
    });
    const pairs = [shared.ownShares, ...opened];
    for (const subset of [pairs.slice(0, 3), pairs.slice(2, 5), [pairs[4]!, pairs[0]!, pairs[3]!]]) {
      assert.deepEqual(
        await combineShares(
          subset.map((p) => p.seedShare),
          3,
        ),
        job.selfMaskSeed,
      );
      assert.deepEqual(
        await combineShares(
          subset.map((p) => p.keyShare),
          3,
        ),
        job.maskSecretKey,
      );
    }
    // Two shares (below the threshold) give something else.
    assert.notDeepEqual(await combineShares([pairs[0]!.seedShare, pairs[1]!.seedShare], 2), job.selfMaskSeed);
  });

  it('a share job agreeing through WebCrypto’s X25519 (the browser worker’s path) seals under the same keys; a low-order key is a RangeError', async () => {
    const x25519 = await webCryptoX25519(globalThis.crypto.subtle);
    assert.ok(x25519, 'X25519 in Node’s WebCrypto');
    const { job, peers } = shareJobOf(4, 5);
    const [viaWebCrypto, here] = [await runShareJob(job, x25519), await runShareJob(job)];
    assert.deepEqual(viaWebCrypto.shareKeys, here.shareKeys);
    peers.forEach((p, i) => {
      const { to, nonce, ciphertext } = viaWebCrypto.encryptedShares[i]!;
      assert.equal(to, p.clientId);
      assert.ok(openShares(here.shareKeys[i]!, { roundId: 4, from: 'client-000', to }, nonce, ciphertext), `the pair for ${to} opens`);
    });
    const lowOrder = { ...job, peers: [...job.peers, { clientId: 'client-009', cipherPublicKey: new Uint8Array(32) }] };
    await assert.rejects(runShareJob(lowOrder, x25519), (err) => err instanceof RangeError && /low-order/.test(err.message));
  });

  it('shareKeysWith refuses a bad roster as shareKeys does, before any job runs, and hands the job the graph’s neighbours', async () => {
    const { sessions, rosters } = roundAtStage1(1);
    const jobs: ShareJob[] = [];
    const run = async (job: ShareJob) => (jobs.push(job), runShareJob(job));
    const r0 = rosters.get('client-000')!;
    await assert.rejects(sessions.get('client-000')!.shareKeysWith({ ...r0, threshold: 2 }, run), refusedWith('BAD_ROSTER'));
    const r1 = rosters.get('client-001')!;
    const replayedKey = { ...r1, neighbours: r1.neighbours.map((n, i) => (i === 1 ? { ...n, cipherPublicKey: r1.neighbours[0]!.cipherPublicKey } : n)) };
    await assert.rejects(sessions.get('client-001')!.shareKeysWith(replayedKey, run), refusedWith('BAD_ROSTER'));
    await assert.rejects(sessions.get('client-002')!.shareKeysWith({ ...rosters.get('client-002')!, roundId: 9 }, run), refusedWith('WRONG_ROUND'));
    assert.equal(jobs.length, 0);
    assert.deepEqual(
      [0, 1, 2].map((i) => sessions.get(`client-00${i}`)!.stage),
      ['aborted', 'aborted', 'aborted'],
    );
    const r3 = rosters.get('client-003')!;
    const reply = await sessions.get('client-003')!.shareKeysWith(r3, run);
    assert.equal(jobs.length, 1);
    assert.deepEqual(jobs[0]!.peers.map((p) => p.clientId).sort(), r3.neighbours.map((n) => n.clientId).sort());
    assert.equal(jobs[0]!.threshold, r3.threshold);
    assert.deepEqual(
      reply.encryptedShares.map((s) => s.to),
      jobs[0]!.peers.map((p) => p.clientId),
    );
    assert.equal(sessions.get('client-003')!.stage, 'receive-shares');
  });

  it('a refused key is BAD_ROSTER, a failed thread aborts and is rethrown, a result that does not fit the job is refused; nothing else runs meanwhile', async () => {
    const { sessions, rosters } = roundAtStage1(2);
    const at = (i: number) => [sessions.get(`client-00${i}`)!, rosters.get(`client-00${i}`)!] as const;
    const [a, ra] = at(0);
    await assert.rejects(
      a.shareKeysWith(ra, async () => Promise.reject(new RangeError('low-order key'))),
      (err: unknown) => refusedWith('BAD_ROSTER')(err) && /low-order key/.test((err as Error).message),
    );
    assert.equal(a.stage, 'aborted');
    const [b, rb] = at(1);
    const died = new Error('mask worker exited with code 1');
    await assert.rejects(
      b.shareKeysWith(rb, async () => Promise.reject(died)),
      (err: unknown) => err === died,
    );
    assert.equal(b.stage, 'aborted');
    const misfits: Array<(s: Awaited<ReturnType<typeof runShareJob>>) => unknown> = [
      (s) => ({ ...s, encryptedShares: s.encryptedShares.slice(1) }),
      (s) => ({ ...s, encryptedShares: [...s.encryptedShares].reverse() }),
      (s) => ({ ...s, shareKeys: s.shareKeys.map((k, i) => (i === 2 ? k.subarray(1) : k)) }),
      (s) => ({ ...s, encryptedShares: s.encryptedShares.map((e, i) => (i === 0 ? { ...e, ciphertext: e.ciphertext.subarray(4) } : e)) }),
      (s) => ({ ...s, ownShares: { seedShare: s.ownShares.seedShare } }),
    ];
    for (const [i, misfit] of misfits.entries()) {
      const [c, rc] = at(i + 2);
      await assert.rejects(
        c.shareKeysWith(rc, async (job) => misfit(await runShareJob(job)) as Awaited<ReturnType<typeof runShareJob>>),
        refusedWith('BAD_INPUT'),
        `misfit ${i}`,
      );
      assert.equal(c.stage, 'aborted');
    }
    // While the job is out the client is at 'sharing': a second roster is refused, the first one's result is taken.
    const [d, rd] = at(7);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const pending = d.shareKeysWith(rd, async (job) => (await held, runShareJob(job)));
    assert.equal(d.stage, 'sharing');
    await assert.rejects(d.shareKeys(rd), refusedWith('WRONG_STAGE'));
    release();
    assert.equal((await pending).encryptedShares.length, rd.neighbours.length);
    assert.equal(d.stage, 'receive-shares');
  });
});
