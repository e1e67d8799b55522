import assert from 'node:assert/strict';
import { RoundLedger, validateUpdate } from '@fedrec/coordinator';
import type { FailureCode } from '@fedrec/coordinator';
import { ProtocolError, generateKeyPair, seal } from '@fedrec/protocol';
import { ROWS, SHARED, connectFakeClient, constantUpdate, manifest, next, startCoordinator, stopAll, until } from './helpers.js';
import type { FitAnswer } from './helpers.js';

interface Case {
  name: string;
  code: FailureCode;
  answer: FitAnswer;
  maxUpdateBytes?: number;
  /** Whether the client is told the verdict via round:result (a client's own failure needs no verdict). */
  verdict?: boolean;
}

const good = constantUpdate(1, 10);

const cases: Case[] = [
  {
    name: 'an envelope bound to another task (replay/swap)',
    code: 'ENVELOPE_REJECTED',
    answer: { kind: 'update', payload: good, bindAs: { taskId: 'someone-elses-task' } },
  },
  {
    name: 'an envelope bound to an older model version',
    code: 'ENVELOPE_REJECTED',
    answer: { kind: 'update', payload: good, bindAs: { modelVersion: 99 } },
  },
  {
    name: 'an envelope sealed to another key',
    code: 'ENVELOPE_REJECTED',
    answer: {
      kind: 'ack',
      ack: {
        ok: true,
        value: { envelope: await seal(new Uint8Array(200), { roundId: 0, clientId: 'bad', taskId: 'x', modelVersion: 0 }, generateKeyPair().publicKey) },
      },
      slotBytes: 1_000,
    },
  },
  {
    name: 'a payload that does not decode',
    code: 'INVALID_PAYLOAD',
    answer: { kind: 'update', payload: good, tamper: (p) => p.map((_, i) => (i * 37) & 0xff) },
  },
  {
    // Its size would tell a wire observer how many item rows the device touched (protocol/update-payload.ts).
    name: "a sparse update not padded to the run's size bucket",
    code: 'INVALID_PAYLOAD',
    answer: {
      kind: 'update',
      payload: { ...good, delta: new Float32Array(SHARED), rowWeights: new Float32Array(ROWS).map((_, i) => (i === 0 ? 1 : 0)) },
      pad: false,
    },
  },
  {
    name: 'a reply that is not a fit reply',
    code: 'INVALID_PAYLOAD',
    answer: { kind: 'ack', ack: { ok: true, value: { envelope: 'nope' } } },
  },
  {
    name: 'an ack of the wrong shape',
    code: 'INVALID_PAYLOAD',
    answer: { kind: 'ack', ack: [1, 2, 3] },
  },
  {
    name: 'a delta of the wrong length',
    code: 'MANIFEST_MISMATCH',
    answer: { kind: 'update', payload: { ...good, delta: new Float32Array(SHARED + 2).fill(1) } },
  },
  {
    name: 'row weights of the wrong length',
    code: 'MANIFEST_MISMATCH',
    answer: { kind: 'update', payload: { ...good, rowWeights: new Float32Array(ROWS - 1).fill(1) } },
  },
  {
    name: 'missing row weights for a rowwise model',
    code: 'MANIFEST_MISMATCH',
    answer: { kind: 'update', payload: { numExamples: 10, metrics: {}, delta: new Float32Array(SHARED).fill(1) } },
  },
  {
    name: 'NaN in the delta',
    code: 'NON_FINITE_VALUES',
    answer: { kind: 'update', payload: { ...good, delta: new Float32Array(SHARED).fill(1).fill(Number.NaN, 3, 4) } },
  },
  {
    name: '-Infinity in the delta',
    code: 'NON_FINITE_VALUES',
    answer: { kind: 'update', payload: { ...good, delta: new Float32Array(SHARED).fill(1).fill(Number.NEGATIVE_INFINITY, 5, 6) } },
  },
  {
    name: 'Infinity in the row weights',
    code: 'NON_FINITE_VALUES',
    answer: { kind: 'update', payload: { ...good, rowWeights: Float32Array.from([1, Number.POSITIVE_INFINITY, 1]) } },
  },
  {
    name: 'negative row weights',
    code: 'INVALID_PAYLOAD',
    answer: { kind: 'update', payload: { ...good, rowWeights: Float32Array.from([1, -5, 1]) } },
  },
  {
    name: 'zero examples',
    code: 'INVALID_PAYLOAD',
    answer: { kind: 'update', payload: { ...good, numExamples: 0 } },
  },
  {
    name: 'an absurd example count',
    code: 'INVALID_PAYLOAD',
    answer: { kind: 'update', payload: { ...good, numExamples: 1e12 } },
  },
  {
    // Paced: the slot request names the size, so the coordinator refuses it and the update never travels (the device reports it).
    name: 'an update over maxUpdateBytes',
    code: 'TOO_LARGE',
    maxUpdateBytes: 1_000,
    verdict: false,
    answer: { kind: 'update', payload: { ...good, delta: new Float32Array(1_000).fill(1) } },
  },
  {
    name: 'an update over maxUpdateBytes sent through a slot asked for less',
    code: 'TOO_LARGE',
    answer: { kind: 'update', payload: good, slot: 64 },
  },
  {
    name: 'an update sent without an upload slot',
    code: 'UPLOAD_SLOT_REQUIRED',
    answer: { kind: 'update', payload: good, slot: false },
  },
  {
    name: 'a client-side training failure',
    code: 'TRAINING_FAILED',
    verdict: false,
    answer: { kind: 'ack', ack: { ok: false, error: { code: 'TRAINING_FAILED', message: 'out of memory' } } },
  },
];

describe('coordinator: update validation', () => {
  afterEach(stopAll);

  it("measures the delta's norm in the same pass as its finiteness: the largest float32 values pass, NaN and ±Infinity do not", () => {
    const limits = { maxUpdateBytes: 1 << 20, maxExamplesPerUpdate: 1_000 };
    const max = 3.4028234663852886e38; // the largest finite float32: its square still fits a float64 many times over
    const huge = validateUpdate({ ...good, delta: new Float32Array(SHARED).fill(-max) }, manifest, limits);
    assert.ok(Number.isFinite(huge.norm));
    assert.ok(Math.abs(huge.norm / (Math.sqrt(SHARED) * max) - 1) < 1e-12, `norm ${huge.norm}`);
    assert.equal(validateUpdate(good, manifest, limits).norm, Math.sqrt(SHARED));
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const delta = new Float32Array(SHARED).fill(max);
      delta[SHARED - 1] = bad;
      assert.throws(
        () => validateUpdate({ ...good, delta }, manifest, limits),
        (err: unknown) => err instanceof ProtocolError && err.code === 'NON_FINITE_VALUES',
      );
    }
  });

  for (const c of cases) {
    it(`rejects ${c.name} with ${c.code}; the round commits from the good update alone`, async () => {
      const { coordinator, url } = await startCoordinator({
        minClients: 2,
        minResults: 1,
        rounds: 1,
        ...(c.maxUpdateBytes ? { maxUpdateBytes: c.maxUpdateBytes } : {}),
      });
      const committed = next(coordinator, 'round:committed');
      const honest = await connectFakeClient(url, { clientId: 'good', fit: () => ({ kind: 'update', payload: good }) });
      const bad = await connectFakeClient(url, { clientId: 'bad', fit: () => c.answer });
      try {
        const record = await committed;
        assert.deepEqual(record.participants, ['good']);
        assert.equal(record.failures.length, 1);
        assert.equal(record.failures[0]!.clientId, 'bad');
        assert.equal(record.failures[0]!.code, c.code);
        assert.equal(record.totalExamples, 10);
        // Only the good update moved the model: every value is exactly 0 + 1.
        assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(1));
        if (c.verdict !== false) {
          await until(() => bad.results.length > 0, 2_000, 'the verdict');
          const verdict = bad.results.find((r) => r.roundId === record.roundId);
          assert.equal(verdict?.accepted, false);
          assert.equal(verdict?.error?.code, c.code);
        }
        await until(() => honest.results.length > 0, 2_000, 'the verdict');
        assert.equal(honest.results.find((r) => r.roundId === record.roundId)?.accepted, true);
      } finally {
        honest.close();
        bad.close();
      }
    });
  }

  it('abandons the round with the model unchanged when the only update is rejected', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 1, minResults: 1, retryDelayMs: 10_000 });
    const abandoned = next(coordinator, 'round:abandoned');
    const bad = await connectFakeClient(url, {
      clientId: 'bad',
      fit: () => ({ kind: 'update', payload: { ...good, delta: new Float32Array(SHARED).fill(Number.NaN) } }),
    });
    try {
      const record = await abandoned;
      assert.equal(record.outcome, 'abandoned');
      assert.equal(record.failures[0]?.code, 'NON_FINITE_VALUES');
      assert.equal(record.modelVersion, 0);
      assert.equal(coordinator.modelVersion, 0);
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(0));
    } finally {
      bad.close();
    }
  });
});

describe('coordinator: round ledger', () => {
  function code(fn: () => void): string {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof ProtocolError);
      return err.code;
    }
    return 'accepted';
  }

  it('accepts one result per selected client for its own task in the open round', () => {
    const ledger = new RoundLedger(4, [
      { clientId: 'a', taskId: 't-a' },
      { clientId: 'b', taskId: 't-b' },
    ]);
    assert.equal(
      code(() => ledger.claim(4, 't-a', 'a')),
      'accepted',
    );
    assert.equal(
      code(() => ledger.claim(4, 't-a', 'a')),
      'DUPLICATE_UPDATE',
    );
    assert.equal(
      code(() => ledger.claim(3, 't-b', 'b')),
      'WRONG_ROUND',
    );
    assert.equal(
      code(() => ledger.claim(4, 't-a', 'b')),
      'WRONG_ROUND',
    );
    assert.equal(
      code(() => ledger.claim(4, 't-z', 'zed')),
      'NOT_SELECTED',
    );
    ledger.close();
    assert.equal(
      code(() => ledger.claim(4, 't-b', 'b')),
      'ROUND_CLOSED',
    );
  });
});
