import assert from 'node:assert/strict';
import { ProtocolError } from '@fedrec/protocol';
import { UploadSlots } from './upload-slots.js';

/** Settles to the code a slot request was refused with, or 'granted'. */
function outcome(p: Promise<void>): Promise<string> {
  return p.then(
    () => 'granted',
    (err: unknown) => (err instanceof ProtocolError ? err.code : `not a ProtocolError: ${String(err)}`),
  );
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ProtocolError ? err.code : String(err);
  }
}

describe('upload slots (upload pacing)', () => {
  it('grants in arrival order while the granted bytes fit the budget, and re-grants as slots are released', async () => {
    const slots = new UploadSlots({ budgetBytes: 100, holdMs: 60_000 });
    const granted: string[] = [];
    const ask = (id: string, bytes: number) => void slots.request(id, bytes).then(() => granted.push(id));
    ask('a', 40);
    ask('b', 40);
    ask('c', 40); // 120 > 100: waits
    ask('d', 10); // fits, but must not overtake c
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(granted, ['a', 'b']);
    assert.equal(slots.waiting, 2);
    assert.equal(slots.bytesGranted, 80);

    slots.use('a', 40);
    slots.release('a');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(granted, ['a', 'b', 'c', 'd']);
    assert.equal(slots.bytesGranted, 90);
    assert.equal(slots.peakBytes, 90);
    assert.equal(slots.peakSlots, 3);
    slots.close();
  });

  it('lets a request larger than the whole budget through alone', async () => {
    const slots = new UploadSlots({ budgetBytes: 10, holdMs: 60_000 });
    assert.equal(await outcome(slots.request('big', 1_000)), 'granted');
    const small = outcome(slots.request('small', 1));
    slots.release('big');
    assert.equal(await small, 'granted');
    assert.equal(slots.peakSlots, 1);
    slots.close();
  });

  it('refuses a second request from the same client, even after its slot was used and released', async () => {
    const slots = new UploadSlots({ budgetBytes: 100, holdMs: 60_000 });
    assert.equal(await outcome(slots.request('a', 10)), 'granted');
    assert.equal(await outcome(slots.request('a', 10)), 'UPLOAD_SLOT_DUPLICATE');
    slots.use('a', 10);
    slots.release('a');
    assert.equal(await outcome(slots.request('a', 10)), 'UPLOAD_SLOT_DUPLICATE');
    assert.equal(slots.bytesGranted, 0, 'a refused request holds nothing');
    slots.close();
  });

  it('refuses an upload without a live grant (never asked, still queued, used twice) or larger than its grant', async () => {
    const slots = new UploadSlots({ budgetBytes: 10, holdMs: 60_000 });
    assert.equal(
      codeOf(() => slots.use('stranger', 1)),
      'UPLOAD_SLOT_REQUIRED',
    );
    assert.equal(await outcome(slots.request('a', 10)), 'granted');
    const queued = outcome(slots.request('b', 10));
    assert.equal(
      codeOf(() => slots.use('b', 10)),
      'UPLOAD_SLOT_REQUIRED',
      'still queued',
    );
    assert.equal(
      codeOf(() => slots.use('a', 11)),
      'TOO_LARGE',
    );
    assert.equal(
      codeOf(() => slots.use('a', 10)),
      undefined,
      'a refused oversized upload does not spend the slot',
    );
    assert.equal(
      codeOf(() => slots.use('a', 10)),
      'UPLOAD_SLOT_REQUIRED',
      'one upload per slot',
    );
    slots.release('a');
    assert.equal(await queued, 'granted');
    slots.close();
  });

  it('frees a grant whose upload does not come within holdMs; the late upload is refused and the next device goes', async () => {
    const slots = new UploadSlots({ budgetBytes: 10, holdMs: 50 });
    assert.equal(await outcome(slots.request('slow', 10)), 'granted');
    const started = Date.now();
    assert.equal(await outcome(slots.request('next', 10)), 'granted'); // waits for the expiry
    assert.ok(Date.now() - started >= 40, 'granted only after the hold expired');
    assert.equal(
      codeOf(() => slots.use('slow', 10)),
      'UPLOAD_SLOT_REQUIRED',
    );
    // A used grant does not expire: it is held until its verdict.
    slots.use('next', 10);
    const after = outcome(slots.request('third', 10));
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(slots.waiting, 1, 'the used slot still holds the budget past holdMs');
    slots.release('next');
    assert.equal(await after, 'granted');
    slots.close();
  });

  it('drops a queued request when its task ends, and refuses every queued request when the round closes', async () => {
    const slots = new UploadSlots({ budgetBytes: 10, holdMs: 60_000 });
    assert.equal(await outcome(slots.request('a', 10)), 'granted');
    const gone = outcome(slots.request('gone', 10));
    const waiting = outcome(slots.request('waiting', 10));
    slots.release('gone'); // e.g. it timed out or disconnected while queued
    assert.equal(await gone, 'ROUND_CLOSED');
    slots.close();
    assert.equal(await waiting, 'ROUND_CLOSED');
    assert.equal(await outcome(slots.request('late', 1)), 'ROUND_CLOSED');
  });

  it('rejects a budget or hold that is not a positive integer', () => {
    assert.throws(() => new UploadSlots({ budgetBytes: 0, holdMs: 1 }), RangeError);
    assert.throws(() => new UploadSlots({ budgetBytes: 1, holdMs: Number.NaN }), RangeError);
  });

  it('forget: releases the slot and lets the same key ask again (buffered mode keys slots by task id, used once)', async () => {
    const slots = new UploadSlots({ budgetBytes: 10, holdMs: 60_000 });
    await slots.request('t1', 10);
    slots.use('t1', 10);
    slots.forget('t1');
    assert.equal(slots.bytesGranted, 0);
    await slots.request('t1', 10); // forgotten: not a duplicate
    assert.equal(slots.bytesGranted, 10);
    slots.close();
  });

  it('keeps arrival order across thousands of queued requests, with queued ones dropped on the way', async () => {
    // One slot at a time, 3,000 devices asking at once (the queue compacts its consumed prefix past 1,024).
    const slots = new UploadSlots({ budgetBytes: 10, holdMs: 60_000 });
    const granted: string[] = [];
    const refused: string[] = [];
    for (let i = 0; i < 3_000; i++)
      void slots.request(`c${i}`, 10).then(
        () => granted.push(`c${i}`),
        () => refused.push(`c${i}`),
      );
    for (let i = 1; i < 3_000; i += 3) slots.release(`c${i}`); // their tasks ended while queued
    assert.equal(slots.waiting, 3_000 - 1 - 1_000);
    for (let k = 0; k < 3_000; k++) {
      await new Promise((r) => setImmediate(r));
      const last = granted.at(-1);
      if (last === undefined) break;
      if (slots.has(last)) slots.release(last);
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      granted,
      Array.from({ length: 3_000 }, (_, i) => `c${i}`).filter((_, i) => i % 3 !== 1),
    );
    assert.equal(refused.length, 1_000);
    assert.equal(slots.waiting, 0);
  });
});
