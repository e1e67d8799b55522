import assert from 'node:assert/strict';
import {
  agreeKey,
  combineShares,
  expandMaskJob,
  generateKeyPair,
  openShares,
  runCorrectionJob,
  type CorrectionJob,
  type MaskJob,
  type ShareJob,
} from '@fedrec/secagg';
import { WorkerMaskExpander } from '@fedrec/client-sdk/node/worker-mask-expander.js';
import { FederatedClient, type Trainer } from '@fedrec/client-sdk/node/index.js';

function job(peers: number, vectorLength = 70_001): MaskJob {
  return {
    roundId: 7,
    clientId: 'client-005',
    vectorLength,
    selfMaskSeed: new Uint8Array(32).map((_, i) => i * 3 + 1),
    maskSecretKey: generateKeyPair().secretKey,
    peers: Array.from({ length: peers }, (_, i) => ({ clientId: `client-${String(i * 2).padStart(3, '0')}`, maskPublicKey: generateKeyPair().publicKey })),
  };
}

describe('WorkerMaskExpander (secure aggregation share keys, masks and corrections on a worker thread)', function () {
  const expander = new WorkerMaskExpander();
  after(() => expander.close());

  it('computes the same mask and pairwise seeds as expandMaskJob on this thread', async () => {
    const j = job(6);
    const [onWorker, here] = [await expander.expand(j), expandMaskJob(j)];
    assert.equal(onWorker.mask.length, j.vectorLength);
    assert.deepEqual(onWorker.mask, here.mask);
    assert.deepEqual(onWorker.pairwiseSeeds, here.pairwiseSeeds);
    // Two jobs in flight are answered each with its own result.
    const [x, y] = [job(2, 1_000), job(3, 2_000)];
    const [rx, ry] = await Promise.all([expander.expand(x), expander.expand(y)]);
    assert.deepEqual([rx.mask.length, ry.mask.length, rx.pairwiseSeeds.length, ry.pairwiseSeeds.length], [1_000, 2_000, 2, 3]);
  });

  it('makes share keys its neighbours open and rebuild at the threshold, and refuses a low-order neighbour key', async () => {
    const own = generateKeyPair();
    const peers = Array.from({ length: 5 }, (_, i) => ({ clientId: `client-${String(i + 10)}`, keys: generateKeyPair() }));
    const j: ShareJob = {
      roundId: 7,
      clientId: 'client-005',
      cipherSecretKey: own.secretKey,
      selfMaskSeed: new Uint8Array(32).map((_, i) => 200 - i),
      maskSecretKey: generateKeyPair().secretKey,
      threshold: 4,
      peers: peers.map((p) => ({ clientId: p.clientId, cipherPublicKey: p.keys.publicKey })),
    };
    const shared = await expander.runShareJob(j);
    const opened = peers.map((p, i) => {
      const key = agreeKey('share-encryption', 7, p.clientId, 'client-005', p.keys.secretKey, own.publicKey);
      const { to, nonce, ciphertext } = shared.encryptedShares[i]!;
      assert.equal(to, p.clientId);
      return openShares(key, { roundId: 7, from: 'client-005', to }, nonce, ciphertext)!;
    });
    assert.ok(opened.every((pair) => pair !== null));
    assert.deepEqual(
      await combineShares(
        opened.slice(1, 5).map((p) => p.seedShare),
        4,
      ),
      j.selfMaskSeed,
    );
    assert.deepEqual(
      await combineShares(
        [shared.ownShares, ...opened.slice(0, 3)].map((p) => p.keyShare),
        4,
      ),
      j.maskSecretKey,
    );
    const bad = { ...j, peers: j.peers.map((p, i) => (i === 3 ? { ...p, cipherPublicKey: new Uint8Array(32) } : p)) };
    await assert.rejects(expander.runShareJob(bad), (err) => err instanceof RangeError && /low-order/.test(err.message));
  });

  it('makes the unmask correction runCorrectionJob makes on this thread', async () => {
    const j: CorrectionJob = {
      vectorLength: 70_001,
      masks: [1, -1, 1].map((sign, m) => ({ seed: new Uint8Array(32).map((_, i) => i * 11 + m), sign: sign as 1 | -1 })),
    };
    const onWorker = await expander.correct(j);
    assert.equal(onWorker.length, 4 * j.vectorLength);
    assert.deepEqual(onWorker, runCorrectionJob(j));
  });

  it('refuses a job X25519 refuses (a low-order neighbour key), and goes on serving the next', async () => {
    const bad = job(2);
    bad.peers[1]!.maskPublicKey = new Uint8Array(32); // the zero point
    await assert.rejects(expander.expand(bad), /low-order/);
    assert.equal((await expander.expand(job(1, 500))).mask.length, 500);
  });

  it('fails the jobs still out when it is closed, and starts a new worker for the next job', async () => {
    const own = new WorkerMaskExpander();
    const refused = assert.rejects(own.expand(job(4)), /mask worker closed/);
    await own.close();
    await refused;
    assert.equal((await own.expand(job(1, 300))).mask.length, 300);
    await own.close();
  });

  it('is stopped by the FederatedClient it was given, on close(): a job still out is refused', async () => {
    const own = new WorkerMaskExpander();
    const unused = (): never => assert.fail('no task runs in this test');
    const trainer: Trainer = { fit: unused, evaluate: unused };
    const client = new FederatedClient({ url: 'http://127.0.0.1:9', trainer, backend: false, expandMasks: own });
    const refused = assert.rejects(own.expand(job(4)), /mask worker closed/);
    await client.close();
    await refused;
    // A closed client's expander still serves a later round (a new worker): close() then connect() again works.
    assert.equal((await own.expand(job(1, 300))).mask.length, 300);
    await own.close();
  });
});
