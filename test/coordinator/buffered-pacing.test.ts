import assert from 'node:assert/strict';
import type { Ack, ParsedFitTask } from '@fedrec/protocol';
import { SHARED, connectFakeClient, constantUpdate, startCoordinator, stopAll, until, type ClientIo, type FakeClient, type FitAnswer } from './helpers.js';

// Buffered mode paces uploads with the sync rounds' slot protocol (protocol/upload-slot.ts): over real
// Socket.IO, a device waits for a slot, and an update without one is refused with nothing changed.

const policyOff = { normBound: 'off', weightCap: 'off', rowNormBound: 'off' } as const;
const codeOf = (a: Ack<unknown>): string => (a.ok ? 'granted' : a.error.code);
function ask(socket: ClientIo, request: unknown): Promise<Ack<unknown>> {
  return socket.timeout(20_000).emitWithAck('upload:slot', request as never) as Promise<Ack<unknown>>;
}
/** Answers the first task with `first`, then keeps quiet (so the test knows exactly how many updates exist). */
const once = (first: (task: ParsedFitTask, client: FakeClient) => FitAnswer | Promise<FitAnswer>) => {
  let used = false;
  return (task: ParsedFitTask, client: FakeClient): FitAnswer | Promise<FitAnswer> => {
    if (used) return { kind: 'silent' };
    used = true;
    return first(task, client);
  };
};

describe('coordinator: buffered mode upload pacing', function () {
  this.timeout(60_000);
  afterEach(stopAll);

  it('a buffered device waits for a slot while another holds the budget, then both updates count', async () => {
    // Each sealed update is a few hundred bytes: a 1-byte budget grants one slot at a time.
    const { coordinator, url } = await startCoordinator({
      mode: 'buffered',
      buffered: { bufferSize: 2 },
      updatePolicy: policyOff,
      roundTimeoutMs: 30_000,
      uploadBudgetBytes: 1,
    });
    const uploads = () => coordinator.status().buffered!.uploads!;
    let holderGranted = false;
    let waitedWhileHeld = false;
    const holder = await connectFakeClient(url, {
      clientId: 'holder',
      fit: once(async (task, client) => {
        assert.equal(task.uploadSlot, true, 'buffered tasks ask for a slot');
        assert.equal(codeOf(await ask(client.socket, { roundId: task.roundId, taskId: task.taskId, bytes: 4_096 })), 'granted');
        holderGranted = true;
        // The other device has asked and is queued behind this slot, not granted.
        await until(() => uploads().waiting === 1, 20_000, 'the other device queued for a slot');
        waitedWhileHeld = waiter.results.length === 0;
        return { kind: 'update', payload: constantUpdate(1, 1), slot: false }; // sent through the slot granted above
      }),
    });
    const waiter: FakeClient = await connectFakeClient(url, {
      clientId: 'waiter',
      fit: once(async () => {
        await until(() => holderGranted, 20_000, 'the holder granted the only slot');
        return { kind: 'update', payload: constantUpdate(3, 1) }; // asks for its slot (the fake does, as the SDK does)
      }),
    });
    try {
      await coordinator.waitForVersion(1, 30_000);
      assert.ok(waitedWhileHeld);
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(2)); // (1 + 3) / 2
      const committed = coordinator.history().filter((r) => r.outcome === 'committed');
      assert.deepEqual([...committed[0]!.participants].sort(), ['holder', 'waiter']);
      assert.equal(uploads().peakBytes, 4_096, 'never more than one slot at once');
      await until(() => uploads().bytesGranted === 0, 5_000, 'slots released once the updates had verdicts');
    } finally {
      holder.close();
      waiter.close();
    }
  });

  it('refuses an update sent without a slot (UPLOAD_SLOT_REQUIRED) and hostile slot requests, with nothing changed', async () => {
    const { coordinator, url } = await startCoordinator({ mode: 'buffered', buffered: { bufferSize: 1 }, updatePolicy: policyOff, roundTimeoutMs: 30_000 });
    const answers: Record<string, string> = {};
    const rogue = await connectFakeClient(url, {
      clientId: 'rogue',
      fit: once(async (task, client) => {
        const s = client.socket;
        answers['garbage'] = codeOf(await ask(s, { roundId: 'x', bytes: -1 }));
        answers['other task'] = codeOf(await ask(s, { roundId: task.roundId, taskId: 'not-mine', bytes: 100 }));
        answers['other round'] = codeOf(await ask(s, { roundId: task.roundId + 7, taskId: task.taskId, bytes: 100 }));
        answers['absurd size'] = codeOf(await ask(s, { roundId: task.roundId, taskId: task.taskId, bytes: 2 ** 40 }));
        return { kind: 'update', payload: constantUpdate(100, 50), slot: false }; // never asked properly: no slot
      }),
    });
    try {
      await until(() => rogue.results.length === 1, 20_000, "the rogue update's verdict");
      assert.deepEqual(answers, { garbage: 'INVALID_PAYLOAD', 'other task': 'WRONG_ROUND', 'other round': 'WRONG_ROUND', 'absurd size': 'TOO_LARGE' });
      assert.equal(rogue.results[0]!.accepted, false);
      assert.equal(rogue.results[0]!.error?.code, 'UPLOAD_SLOT_REQUIRED');
      // Nothing changed: no version, nothing buffered or counted, no slot held, the model as it was.
      const status = coordinator.status().buffered!;
      assert.equal(coordinator.modelVersion, 0);
      assert.equal(status.buffered, 0);
      assert.equal(status.accepted, 0);
      assert.equal(status.refusedStale, 0);
      assert.equal(status.uploads!.bytesGranted, 0);
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(0));
      // The engine goes on: an honest device's update (asking twice: the second is a duplicate) makes version 1.
      let second = '';
      const honest = await connectFakeClient(url, {
        clientId: 'honest',
        fit: once(async (task, client) => {
          assert.equal(codeOf(await ask(client.socket, { roundId: task.roundId, taskId: task.taskId, bytes: 4_096 })), 'granted');
          second = codeOf(await ask(client.socket, { roundId: task.roundId, taskId: task.taskId, bytes: 4_096 }));
          return { kind: 'update', payload: constantUpdate(1, 1), slot: false };
        }),
      });
      try {
        await coordinator.waitForVersion(1, 20_000);
        assert.equal(second, 'UPLOAD_SLOT_DUPLICATE');
        assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(1));
      } finally {
        honest.close();
      }
    } finally {
      rogue.close();
    }
  });

  it('with pacing off (uploadBudgetBytes 0), buffered tasks do not ask for slots and updates go straight in', async () => {
    const { coordinator, url } = await startCoordinator({ mode: 'buffered', buffered: { bufferSize: 1 }, updatePolicy: policyOff, uploadBudgetBytes: 0 });
    const c = await connectFakeClient(url, { clientId: 'a', fit: once(() => ({ kind: 'update', payload: constantUpdate(1, 1), slot: false })) });
    try {
      await coordinator.waitForVersion(1, 20_000);
      assert.equal(c.tasks[0]!.uploadSlot, undefined);
      assert.equal(coordinator.status().buffered!.uploads, undefined);
    } finally {
      c.close();
    }
  });
});
