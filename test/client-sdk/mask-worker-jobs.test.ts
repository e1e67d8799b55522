import assert from 'node:assert/strict';
import { generateKeyPair, type ExpandedMask, type MaskJob } from '@fedrec/secagg';
import { answerMaskJob, PendingMaskJobs } from '@fedrec/client-sdk/mask-worker-jobs.js';

const job: MaskJob = {
  roundId: 2,
  clientId: 'client-001',
  vectorLength: 64,
  selfMaskSeed: new Uint8Array(32).fill(9),
  maskSecretKey: generateKeyPair().secretKey,
  peers: [{ clientId: 'client-002', maskPublicKey: generateKeyPair().publicKey }],
};

/** A request through both sides, as a worker would carry it: the promise the asking side gets. */
function roundTrip(expand?: (j: MaskJob) => ExpandedMask | Promise<ExpandedMask>): Promise<ExpandedMask> {
  const jobs = new PendingMaskJobs();
  return jobs.add(job, (request) => void answerMaskJob(request, expand).then(({ reply }) => jobs.settle(reply)));
}

describe('mask worker jobs (the request/reply both mask workers speak)', () => {
  it('answers a job with its mask, and hands the mask buffer over for transfer', async () => {
    const { reply, transfer } = await answerMaskJob({ id: 4, job });
    assert.equal(reply.ok, true);
    assert.equal(reply.id, 4);
    assert.deepEqual(transfer, [reply.ok ? reply.expanded.mask.buffer : undefined]);
    assert.equal((await roundTrip()).mask.length, 64);
  });

  it('a refused key comes back as a RangeError (BAD_ROSTER), any other failure in the worker as a plain Error (INTERNAL)', async () => {
    const bad = { ...job, peers: [{ clientId: 'client-002', maskPublicKey: new Uint8Array(32) }] };
    const jobs = new PendingMaskJobs();
    const refused = jobs.add(bad, (request) => void answerMaskJob(request).then(({ reply }) => jobs.settle(reply)));
    await assert.rejects(refused, (err) => err instanceof RangeError && /low-order/.test(err.message));
    await assert.rejects(
      roundTrip(() => Promise.reject(new Error('OperationError from WebCrypto'))),
      (err) => !(err instanceof RangeError) && err instanceof Error && /^mask worker failed: OperationError/.test(err.message),
    );
  });

  it('a job that cannot be posted is refused and not kept; failAll refuses those out', async () => {
    const jobs = new PendingMaskJobs();
    await assert.rejects(
      jobs.add(job, () => {
        throw new Error('no worker');
      }),
      /no worker/,
    );
    assert.equal(jobs.size, 0);
    const out = jobs.add(job, () => {});
    assert.equal(jobs.size, 1);
    jobs.failAll(new Error('mask worker closed'));
    await assert.rejects(out, /mask worker closed/);
    assert.equal(jobs.size, 0);
  });
});
