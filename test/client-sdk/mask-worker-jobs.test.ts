import assert from 'node:assert/strict';
import { agreeKey, generateKeyPair, openShares, runCorrectionJob, type CorrectionJob, type ExpandedMask, type MaskJob, type ShareJob } from '@fedrec/secagg';
import { answerMaskWorkerJob, PendingMaskJobs } from '@fedrec/client-sdk/mask-worker-jobs.js';

const job: MaskJob = {
  roundId: 2,
  clientId: 'client-001',
  vectorLength: 64,
  selfMaskSeed: new Uint8Array(32).fill(9),
  maskSecretKey: generateKeyPair().secretKey,
  peers: [{ clientId: 'client-002', maskPublicKey: generateKeyPair().publicKey }],
};

const peerCipher = generateKeyPair();
const ownCipher = generateKeyPair();
const shareJob: ShareJob = {
  roundId: 2,
  clientId: 'client-001',
  cipherSecretKey: ownCipher.secretKey,
  selfMaskSeed: new Uint8Array(32).fill(9),
  maskSecretKey: job.maskSecretKey,
  threshold: 2,
  peers: [{ clientId: 'client-002', cipherPublicKey: peerCipher.publicKey }],
};

/** A request through both sides, as a worker would carry it: the promise the asking side gets. */
function roundTrip(expand?: (j: MaskJob) => ExpandedMask | Promise<ExpandedMask>): Promise<ExpandedMask> {
  const jobs = new PendingMaskJobs();
  return jobs.add(
    { kind: 'mask', job },
    (request) => void answerMaskWorkerJob(request, { ...(expand ? { mask: expand } : {}) }).then(({ reply }) => jobs.settle(reply)),
  );
}

describe('mask worker jobs (the request/reply both mask workers speak: share keys, masks and corrections)', () => {
  it('answers a job with its mask, and hands the mask buffer over for transfer', async () => {
    const { reply, transfer } = await answerMaskWorkerJob({ id: 4, kind: 'mask', job });
    assert.equal(reply.ok, true);
    assert.equal(reply.id, 4);
    assert.deepEqual(transfer, [reply.ok ? (reply.result as ExpandedMask).mask.buffer : undefined]);
    assert.equal((await roundTrip()).mask.length, 64);
  });

  it('answers a share job with pairs its neighbours open, through the same book as the masks', async () => {
    const jobs = new PendingMaskJobs();
    const post = (request: Parameters<typeof answerMaskWorkerJob>[0]) => void answerMaskWorkerJob(request).then(({ reply }) => jobs.settle(reply));
    const [shared, expanded] = await Promise.all([jobs.add({ kind: 'share', job: shareJob }, post), jobs.add({ kind: 'mask', job }, post)]);
    assert.equal(expanded.mask.length, 64);
    const key = agreeKey('share-encryption', 2, 'client-002', 'client-001', peerCipher.secretKey, ownCipher.publicKey);
    assert.deepEqual(shared.shareKeys, [key]);
    const { nonce, ciphertext } = shared.encryptedShares[0]!;
    assert.ok(openShares(key, { roundId: 2, from: 'client-001', to: 'client-002' }, nonce, ciphertext));
    const refused = jobs.add({ kind: 'share', job: { ...shareJob, peers: [{ clientId: 'client-002', cipherPublicKey: new Uint8Array(32) }] } }, post);
    await assert.rejects(refused, (err) => err instanceof RangeError && /low-order/.test(err.message));
  });

  it('answers a correction job with runCorrectionJob’s bytes, handing their buffer over for transfer', async () => {
    const correctionJob: CorrectionJob = { vectorLength: 64, masks: [{ seed: new Uint8Array(32).fill(5), sign: -1 }] };
    const { reply, transfer } = await answerMaskWorkerJob({ id: 6, kind: 'correction', job: correctionJob });
    assert.ok(reply.ok);
    const correction = reply.result as Uint8Array;
    assert.deepEqual(correction, runCorrectionJob(correctionJob));
    assert.deepEqual(transfer, [correction.buffer]);
    const jobs = new PendingMaskJobs();
    const post = (request: Parameters<typeof answerMaskWorkerJob>[0]) => void answerMaskWorkerJob(request).then(({ reply }) => jobs.settle(reply));
    assert.deepEqual(await jobs.add({ kind: 'correction', job: correctionJob }, post), correction);
  });

  it('a refused key comes back as a RangeError (BAD_ROSTER), any other failure in the worker as a plain Error (INTERNAL)', async () => {
    const bad = { ...job, peers: [{ clientId: 'client-002', maskPublicKey: new Uint8Array(32) }] };
    const jobs = new PendingMaskJobs();
    const refused = jobs.add({ kind: 'mask', job: bad }, (request) => void answerMaskWorkerJob(request).then(({ reply }) => jobs.settle(reply)));
    await assert.rejects(refused, (err) => err instanceof RangeError && /low-order/.test(err.message));
    await assert.rejects(
      roundTrip(() => Promise.reject(new Error('OperationError from WebCrypto'))),
      (err) => !(err instanceof RangeError) && err instanceof Error && /^mask worker failed: OperationError/.test(err.message),
    );
  });

  it('a job that cannot be posted is refused and not kept; failAll refuses those out', async () => {
    const jobs = new PendingMaskJobs();
    await assert.rejects(
      jobs.add({ kind: 'mask', job }, () => {
        throw new Error('no worker');
      }),
      /no worker/,
    );
    assert.equal(jobs.size, 0);
    const out = jobs.add({ kind: 'share', job: shareJob }, () => {});
    assert.equal(jobs.size, 1);
    jobs.failAll(new Error('mask worker closed'));
    await assert.rejects(out, /mask worker closed/);
    assert.equal(jobs.size, 0);
  });
});
