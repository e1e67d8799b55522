// The entry of one update worker thread (started by update-pool.ts). Everything per update that used to
// run on the coordinator's event loop (open, decode, validate, bound, accumulate) runs here, in an
// UpdateShard; the main thread only decides the policy's bounds and merges the partial sums at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { EnvelopeOpener, ProtocolError, ENVELOPE_AEAD, type SealedEnvelope } from '@fedrec/protocol';
import type { FromWorker, SealedParts, ToWorker } from './messages.js';
import { openEvaluation } from '../evaluation-opening.js';
import { UpdateShard } from './update-shard.js';

const port = parentPort;
if (!port) throw new Error('update-worker.ts runs as a worker thread');
const { secretKey } = workerData as { secretKey: Uint8Array };
// One opener for updates and evaluations: a session's agreed key, cached by its fit, opens its evaluation too.
const opener = new EnvelopeOpener(new Uint8Array(secretKey));
const shard = new UpdateShard(opener);
/** Applies that failed since the last hand-over (never for the pool's own requests; reported with the sums). */
let failedJobs: number[] = [];

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function failed(job: number, err: unknown): void {
  if (err instanceof ProtocolError) post({ type: 'failed', job, code: err.code, message: err.message });
  else post({ type: 'failed', job, code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
}

// Applied updates are added once the messages that arrived together are handled (a MessagePort delivers its
// queued messages before the event loop reaches setImmediate), so a burst is summed in fused passes (and at
// the latest before the next envelope is opened: UpdateShard.open).
let drainScheduled = false;
function scheduleDrain(): void {
  if (drainScheduled) return;
  drainScheduled = true;
  setImmediate(() => {
    drainScheduled = false;
    // A throw here (never for validated updates of the round's manifest) ends the worker: the pool then counts
    // its applied updates as lost, as for any crash, rather than merging sums that miss some.
    shard.drain();
  });
}

function sealedEnvelope(m: SealedParts): SealedEnvelope {
  return { aead: ENVELOPE_AEAD, senderPublicKey: m.senderPublicKey, nonce: m.nonce, ciphertext: m.ciphertext };
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'begin':
      shard.begin(m.round, m.manifest, m.limits);
      failedJobs = [];
      return;
    case 'open': {
      const envelope = sealedEnvelope(m);
      shard.open(m.round, m.job, envelope, m.binding).then(
        ({ update, metrics, measured }) => {
          const rowNorms = Float64Array.from(measured.rows, (r) => r.norm);
          post({ type: 'opened', job: m.job, numExamples: update.numExamples, metrics, received: measured.received, rowNorms }, [rowNorms.buffer]);
        },
        (err: unknown) => failed(m.job, err),
      );
      return;
    }
    case 'evaluate': {
      const envelope = sealedEnvelope(m);
      openEvaluation(opener, envelope, m.binding, m.maxMetricKeys).then(
        ({ numExamples, metrics }) => post({ type: 'evaluated', job: m.job, numExamples, metrics }),
        (err: unknown) => failed(m.job, err),
      );
      return;
    }
    case 'apply':
      // Not answered (one message each way per update): the pool counts the update as applied from the post.
      try {
        shard.apply(m.round, m.job, m.bounds, m.scale ?? 1);
        scheduleDrain();
      } catch {
        failedJobs.push(m.job); // the pool then names the update lost
      }
      return;
    case 'take':
      try {
        const u = shard.take(m.round, m.job);
        const transfer = [...new Set([u.delta.buffer as ArrayBuffer, ...(u.rowWeights ? [u.rowWeights.buffer as ArrayBuffer] : [])])];
        post({ type: 'taken', job: m.job, numExamples: u.numExamples, delta: u.delta, rowWeights: u.rowWeights }, transfer);
      } catch (err) {
        failed(m.job, err);
      }
      return;
    case 'discard':
      shard.discard(m.job);
      return;
    case 'finish':
    case 'cut': {
      const { sums, tally } = m.type === 'finish' ? shard.finish(m.round) : shard.cut(m.round);
      post(
        { type: 'finished', job: m.job, round: m.round, sums, tally, failedJobs },
        sums ? [sums.weightedDeltaSum.buffer as ArrayBuffer, sums.rowWeightSums.buffer as ArrayBuffer] : [],
      );
      failedJobs = [];
      return;
    }
  }
});
