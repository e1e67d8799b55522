import assert from 'node:assert/strict';
import { ClientRegistry } from '@fedrec/coordinator/client-registry.js';
import type { CoordinatorStatus } from '@fedrec/coordinator/coordinator-status.js';
import type { ClientSocket } from '@fedrec/coordinator/socket-types.js';
import { SelectionNames } from '@fedrec/coordinator/status-cache.js';

// /api/status is polled during rounds of thousands of clients: its per-request work must not grow with them.

const statusWith = (selected: string[] | null): CoordinatorStatus =>
  ({ phase: 'fit', currentRound: selected ? { roundId: 1, startedAt: 0, deadline: 1, selected } : null }) as unknown as CoordinatorStatus;

describe('/api/status per-request work', () => {
  it('renames and serializes the round selection once per round and audience, and again for a new round', () => {
    const names = new SelectionNames();
    let calls = 0;
    const pseudonym = (id: string) => {
      calls++;
      return `p-${id}`;
    };
    const parse = (json: string) => JSON.parse(json) as CoordinatorStatus;
    const round1 = Array.from({ length: 5000 }, (_, i) => `c${i}`);
    const a = parse(names.json(statusWith(round1), false, pseudonym));
    const b = parse(names.json(statusWith(round1), false, pseudonym));
    assert.equal(calls, 5000, 'the second request reused the first one');
    // The text is the renamed status, every field of it.
    const renamed = statusWith(round1.map((id) => `p-${id}`));
    assert.deepEqual(a, renamed);
    assert.deepEqual(b, renamed);
    // The operator sees raw ids, cached separately: a public request never gets raw ids and vice versa.
    assert.deepEqual(parse(names.json(statusWith(round1), true, (id) => id)), statusWith(round1));
    assert.equal(parse(names.json(statusWith(round1), false, pseudonym)).currentRound!.selected[7], 'p-c7');
    assert.equal(calls, 5000);
    // A new round (a new selection array, even with equal contents) is renamed afresh; the other fields are the request's own.
    const round2 = ['x', 'y'];
    const later = { ...statusWith(round2), phase: 'evaluate' } as CoordinatorStatus;
    assert.deepEqual(parse(names.json(later, false, pseudonym)), { ...later, currentRound: { ...later.currentRound!, selected: ['p-x', 'p-y'] } });
    assert.equal(calls, 5002);
    // Ids that need escaping come out as valid JSON.
    const odd = ['a"b', 'c\\d', 'e\nf'];
    assert.deepEqual(parse(names.json(statusWith(odd), true, (id) => id)).currentRound!.selected, odd);
    const idle = statusWith(null);
    assert.deepEqual(parse(names.json(idle, false, pseudonym)), idle);
  });

  it('keeps runtime counts as clients connect, reconnect and leave', () => {
    const registry = new ClientRegistry();
    const socket = (clientId: string, runtime?: { engine: string; backend: string }) =>
      ({ data: { clientId, connectedAt: 0, ...(runtime ? { runtime } : {}) } }) as unknown as ClientSocket;
    const a = socket('a', { engine: 'tfjs', backend: 'webgl' });
    const b = socket('b');
    const b2 = socket('b', { engine: 'js', backend: 'none' });
    registry.add(a);
    registry.add(b);
    assert.deepEqual(registry.runtimes(), { 'tfjs/webgl': 1, unreported: 1 });
    assert.equal(registry.add(b2), b, 'the older connection is handed back to be closed');
    assert.deepEqual(registry.runtimes(), { 'tfjs/webgl': 1, 'js/none': 1 });
    assert.equal(registry.remove(b), false, 'a replaced socket is not counted twice');
    assert.deepEqual(registry.runtimes(), { 'tfjs/webgl': 1, 'js/none': 1 });
    assert.equal(registry.add(b2), undefined, 'adding the same socket again changes nothing');
    assert.deepEqual(registry.runtimes(), { 'tfjs/webgl': 1, 'js/none': 1 });
    registry.remove(a);
    registry.remove(b2);
    assert.deepEqual(registry.runtimes(), {});
    assert.equal(registry.size, 0);
  });
});
