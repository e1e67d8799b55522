import assert from 'node:assert/strict';
import type { Ack, ParsedFitTask } from '@fedrec/protocol';
import { PlainFitCollector } from '@fedrec/coordinator';
import { connectFakeClient, constantUpdate, next, SHARED, startCoordinator, stopAll, until, type ClientIo, type FakeClient } from './helpers.js';

/** What upload:slot answered, raw. */
function ask(socket: ClientIo, request: unknown): Promise<Ack<unknown>> {
  return socket.timeout(20_000).emitWithAck('upload:slot', request as never) as Promise<Ack<unknown>>;
}

const codeOf = (a: Ack<unknown>): string => (a.ok ? 'granted' : a.error.code);

describe('coordinator: upload pacing (upload:slot)', () => {
  afterEach(stopAll);

  it('grants slots within the budget: every update of the round is accepted, never more bytes granted at once than the budget allows', async () => {
    // Each sealed update here is a few hundred bytes: a 1-byte budget grants one slot at a time.
    const collector = new PlainFitCollector({ uploadBudgetBytes: 1 });
    const { coordinator, url } = await startCoordinator({ minClients: 6, minResults: 6, rounds: 1, roundTimeoutMs: 30_000, fitCollector: collector });
    const committed = next(coordinator, 'round:committed', 30_000);
    const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => connectFakeClient(url, { clientId: `c${i}` })));
    try {
      const record = await committed;
      assert.equal(record.participants.length, 6);
      assert.equal(record.failures.length, 0);
      assert.ok(
        clients.every((c) => c.tasks[0]?.uploadSlot === true),
        'paced tasks say so',
      );
      assert.equal(collector.uploadSlots?.peakSlots, 1, 'one slot at a time');
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(1));
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('with pacing off (uploadBudgetBytes 0), tasks do not ask for slots and updates go straight in', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 2, minResults: 2, rounds: 1, uploadBudgetBytes: 0 });
    const committed = next(coordinator, 'round:committed', 10_000);
    const clients = await Promise.all(
      ['a', 'b'].map((clientId) => connectFakeClient(url, { clientId, fit: () => ({ kind: 'update', payload: constantUpdate(1, 10), slot: false }) })),
    );
    try {
      assert.equal((await committed).participants.length, 2);
      assert.ok(clients.every((c) => c.tasks[0]?.uploadSlot === undefined));
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('refuses hostile slot requests with a clear code and nothing changes: asking twice, for another task or round, an absurd size, garbage', async () => {
    const answers: Record<string, string> = {};
    const hostile = async (task: ParsedFitTask, client: FakeClient) => {
      const s = client.socket;
      answers['garbage'] = codeOf(await ask(s, { roundId: 'x', bytes: -1 }));
      answers['other task'] = codeOf(await ask(s, { roundId: task.roundId, taskId: 'not-mine', bytes: 100 }));
      answers['other round'] = codeOf(await ask(s, { roundId: task.roundId + 7, taskId: task.taskId, bytes: 100 }));
      answers['absurd size'] = codeOf(await ask(s, { roundId: task.roundId, taskId: task.taskId, bytes: 2 ** 40 }));
      answers['first'] = codeOf(await ask(s, { roundId: task.roundId, taskId: task.taskId, bytes: 4_096 }));
      answers['second'] = codeOf(await ask(s, { roundId: task.roundId, taskId: task.taskId, bytes: 4_096 }));
      // The first grant still stands: the update goes through it.
      return { kind: 'update' as const, payload: constantUpdate(1, 10), slot: false as const };
    };
    const { coordinator, url } = await startCoordinator({ minClients: 2, minResults: 2, rounds: 1, roundTimeoutMs: 20_000 });
    const committed = next(coordinator, 'round:committed', 20_000);
    const honest = await connectFakeClient(url, { clientId: 'honest' });
    const bad = await connectFakeClient(url, { clientId: 'bad', fit: hostile });
    try {
      const record = await committed;
      assert.deepEqual(answers, {
        garbage: 'INVALID_PAYLOAD',
        'other task': 'WRONG_ROUND',
        'other round': 'WRONG_ROUND',
        'absurd size': 'TOO_LARGE',
        first: 'granted',
        second: 'UPLOAD_SLOT_DUPLICATE',
      });
      assert.deepEqual([...record.participants].sort(), ['bad', 'honest']);
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(1));
    } finally {
      honest.close();
      bad.close();
    }
  });

  it('a device that holds a slot past its hold loses it: its late upload is refused and the next device goes', async () => {
    const collector = new PlainFitCollector({ uploadBudgetBytes: 1, uploadSlotHoldMs: 200 });
    const { coordinator, url } = await startCoordinator({ minClients: 2, minResults: 1, rounds: 1, roundTimeoutMs: 20_000, fitCollector: collector });
    const committed = next(coordinator, 'round:committed', 20_000);
    let slowGranted = false;
    const slow = await connectFakeClient(url, {
      clientId: 'slow',
      fit: async (task, client) => {
        assert.equal(codeOf(await ask(client.socket, { roundId: task.roundId, taskId: task.taskId, bytes: 4_096 })), 'granted');
        slowGranted = true;
        // Sits on the slot; the other device is granted once the hold expires. Then it sends anyway.
        await until(() => quick.results.length > 0, 15_000, "the other device's verdict");
        return { kind: 'update', payload: constantUpdate(1, 10), slot: false };
      },
    });
    const quick: FakeClient = await connectFakeClient(url, {
      clientId: 'quick',
      fit: async () => {
        await until(() => slowGranted, 15_000, 'the slow device holding the only slot');
        return { kind: 'update', payload: constantUpdate(1, 10) };
      },
    });
    try {
      const record = await committed;
      assert.deepEqual(record.participants, ['quick']);
      assert.equal(record.failures[0]?.clientId, 'slow');
      assert.equal(record.failures[0]?.code, 'UPLOAD_SLOT_REQUIRED');
    } finally {
      slow.close();
      quick.close();
    }
  });

  it('answers upload:slot outside a paced round with an error, not silence', async () => {
    const { url } = await startCoordinator({ minClients: 5 });
    const c = await connectFakeClient(url, { clientId: 'idle' });
    try {
      assert.equal(codeOf(await ask(c.socket, { roundId: 0, taskId: 't', bytes: 10 })), 'INVALID_PAYLOAD');
    } finally {
      c.close();
    }
  });
});
