import assert from 'node:assert/strict';
import { encodeEvaluateMetrics, evaluateBinding, fitTaskSchema, seal, type ParsedFitTask } from '@fedrec/protocol';
import type { Coordinator, EvaluationRecord, PlainFitCollector, RoundRecord } from '@fedrec/coordinator';
import { connectFakeClient, constantUpdate, next, startCoordinator, stopAll, type FakeClient, type FitAnswer } from './helpers.js';

// Evaluation replies through the update pool (issue 12; the refusal cases moved here from round-engine.test.ts): with update workers, a sealed evaluate result is opened
// and checked in the worker that holds its sender's session key, as fit updates are; with updateWorkers 0 the
// main thread opens it. Each case runs both ways, in sync rounds and in buffered mode, over real Socket.IO, and
// both must count the same results and refuse the same replies with the same codes.

const closeAll = (clients: FakeClient[]) => clients.forEach((c) => c.close());

/** Answers `round:evaluate` on the socket itself with an envelope sealed by `make` (hostile devices). */
function answerSealed(client: FakeClient, make: (task: ParsedFitTask) => Promise<unknown>): void {
  client.socket.off('round:evaluate');
  client.socket.on('round:evaluate', (raw, ack) => {
    void make(fitTaskSchema.parse(raw)).then((envelope) => ack({ ok: true, value: { envelope } } as Parameters<typeof ack>[0]));
  });
}

/** The evaluation record of version 1, once it is in the history (sync: at the end of the run; buffered: when announced). */
function evaluationOfVersion1(coordinator: Coordinator, mode: 'sync' | 'buffered'): Promise<EvaluationRecord> {
  if (mode === 'buffered') return next(coordinator, 'round:evaluated').then((r: RoundRecord) => r.evaluation!);
  return next(coordinator, 'training:finished').then(() => (coordinator.history() as RoundRecord[])[0]!.evaluation!);
}

describe('coordinator: evaluation replies through the update pool', function () {
  // Worker threads start under tsx (a few seconds on a loaded machine).
  this.timeout(60_000);
  afterEach(stopAll);

  for (const mode of ['sync', 'buffered'] as const) {
    for (const workers of [2, 0]) {
      const path = workers > 0 ? `${workers} update workers` : 'the main thread (updateWorkers 0)';

      it(`${mode}: counts the sealed results and refuses unsealed, tampered, wrongly bound and oversized ones with their codes (${path})`, async () => {
        const { coordinator, url } = await startCoordinator({
          rounds: 1,
          evaluateEvery: 1,
          maxMetricKeys: 2,
          updateWorkers: workers,
          roundTimeoutMs: 30_000,
          ...(mode === 'sync' ? { minClients: 6 } : { mode: 'buffered', buffered: { bufferSize: 1 } }),
        });
        const evaluated = evaluationOfVersion1(coordinator, mode);
        const sealedAs = (task: ParsedFitTask, client: FakeClient, kind: string, metrics: Record<string, number>) =>
          seal(encodeEvaluateMetrics({ numExamples: 1, metrics }), { ...evaluateBinding(task, client.clientId), kind }, client.welcome.coordinatorPublicKey);
        // No fit is answered (so no version is committed and evaluated) before the hostile devices' handlers are in place.
        let go = () => {};
        const ready = new Promise<void>((resolve) => (go = resolve));
        const fit = async (): Promise<FitAnswer> => {
          await ready;
          return { kind: 'update', payload: constantUpdate(1, 1) };
        };
        const clients = await Promise.all([
          connectFakeClient(url, { clientId: 'a', fit, evaluate: () => ({ ok: true, value: { numExamples: 2, metrics: { hr10: 0.5 } } }) }),
          connectFakeClient(url, { clientId: 'b', fit, evaluate: () => ({ ok: true, value: { numExamples: 1, metrics: { hr10: 1 } } }) }),
          // A device from before sealing: the metrics in clear (refused before anything is opened).
          connectFakeClient(url, { clientId: 'clear', fit, evaluate: () => ({ raw: { ok: true, value: { numExamples: 1, metrics: { hr10: 1 } } } }) }),
          connectFakeClient(url, { clientId: 'tampered', fit }),
          connectFakeClient(url, { clientId: 'as-fit', fit }),
          connectFakeClient(url, { clientId: 'greedy', fit }),
        ]);
        const [, , , tampered, asFit, greedy] = clients as [FakeClient, FakeClient, FakeClient, FakeClient, FakeClient, FakeClient];
        answerSealed(tampered, async (task) => {
          const envelope = await sealedAs(task, tampered, 'evaluate', { hr10: 1 });
          envelope.ciphertext[0]! ^= 1;
          return envelope;
        });
        answerSealed(asFit, (task) => sealedAs(task, asFit, 'fit', { hr10: 1 }));
        // Sealed correctly, but with more metric names than maxMetricKeys.
        answerSealed(greedy, (task) => sealedAs(task, greedy, 'evaluate', { hr10: 1, ndcg10: 1, auc: 1 }));
        go();
        try {
          const evaluation = await evaluated;
          assert.deepEqual([...evaluation.participants].sort(), ['a', 'b']);
          assert.equal(evaluation.numExamples, 3, 'nothing counted for a refused reply');
          assert.ok(Math.abs(evaluation.metrics['hr10']! - (2 * 0.5 + 1) / 3) < 1e-12);
          const codes = Object.fromEntries(evaluation.failures.map((f) => [f.clientId, f.code]));
          assert.deepEqual(codes, { clear: 'INVALID_PAYLOAD', tampered: 'ENVELOPE_REJECTED', 'as-fit': 'ENVELOPE_REJECTED', greedy: 'TOO_LARGE' });
          assert.match(evaluation.failures.find((f) => f.clientId === 'clear')!.message, /unsealed evaluate reply refused/);
          // Every sealed reply (all but the clear one) was opened in a worker, or none was.
          const pool = mode === 'buffered' ? coordinator.status().buffered!.updatePool : (coordinator.options.fitCollector as PlainFitCollector).updatePool;
          if (workers > 0) assert.equal(pool?.evaluations, 5);
          else assert.equal(pool, undefined);
        } finally {
          closeAll(clients);
        }
      });
    }
  }
});
