import assert from 'node:assert/strict';
import { MODEL_CONTENT_TYPE, decodeFramed } from '@fedrec/coordinator';
import { SHARED, connectFakeClient, constantUpdate, manifest, startCoordinator, stopAll } from './helpers.js';

describe('coordinator: REST API', () => {
  afterEach(stopAll);

  it('serves /healthz and /api/status with round, version, clients, phase, fingerprint, strategy and mode', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 3 });
    assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { ok: true });
    const client = await connectFakeClient(url, { clientId: 'a' });
    try {
      const status = (await (await fetch(`${url}/api/status`)).json()) as Record<string, unknown>;
      assert.equal(status['modelVersion'], 0);
      assert.equal(status['connectedClients'], 1);
      assert.equal(status['phase'], 'waiting-for-clients');
      assert.equal(status['fingerprint'], coordinator.status().fingerprint);
      assert.match(String(status['fingerprint']), /^sha512:[0-9a-f]{32}$/);
      assert.equal(status['strategy'], 'fedavg');
      assert.equal(status['mode'], 'continuous');
      assert.equal(status['nextRoundId'], 0);
    } finally {
      client.close();
    }
  });

  it('serves /api/rounds with participants, failures and their codes (raw ids to the operator)', async () => {
    const operatorToken = 'operator-token-for-tests';
    const { coordinator, url } = await startCoordinator({ minClients: 2, rounds: 1, roundTimeoutMs: 200, operatorToken });
    const a = await connectFakeClient(url, { clientId: 'a' });
    const b = await connectFakeClient(url, { clientId: 'b', fit: () => ({ kind: 'silent' }) });
    try {
      await coordinator.waitForVersion(1);
      const headers = { authorization: `Bearer ${operatorToken}` };
      const { rounds } = (await (await fetch(`${url}/api/rounds`, { headers })).json()) as { rounds: Array<Record<string, unknown>> };
      assert.equal(rounds.length, 1);
      assert.equal(rounds[0]!['outcome'], 'committed');
      assert.deepEqual(rounds[0]!['participants'], ['a']);
      assert.deepEqual(
        (rounds[0]!['failures'] as Array<{ clientId: string; code: string }>).map((f) => [f.clientId, f.code]),
        [['b', 'TIMEOUT']],
      );
      assert.equal(typeof rounds[0]!['durationMs'], 'number');
    } finally {
      a.close();
      b.close();
    }
  });

  it('serves /api/status during a round: the selection as pseudonyms, raw ids to the operator, the same text on a repeat', async () => {
    const operatorToken = 'operator-token-for-tests';
    const { coordinator, url } = await startCoordinator({ minClients: 2, roundTimeoutMs: 60_000, operatorToken });
    const started = new Promise((resolve) => coordinator.once('round:started', resolve));
    const a = await connectFakeClient(url, { clientId: 'a', fit: () => ({ kind: 'silent' }) });
    const b = await connectFakeClient(url, { clientId: 'b', fit: () => ({ kind: 'silent' }) });
    try {
      await started;
      type Status = { currentRound: { roundId: number; selected: string[] } | null } & Record<string, unknown>;
      const get = async (headers: Record<string, string> = {}) => {
        const res = await fetch(`${url}/api/status`, { headers });
        assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
        return res.text();
      };
      const publicText = await get();
      assert.equal(await get(), publicText, 'a repeat within the round gives the same text');
      const pub = JSON.parse(publicText) as Status;
      const op = JSON.parse(await get({ authorization: `Bearer ${operatorToken}` })) as Status;
      const own = coordinator.status();
      assert.deepEqual([...op.currentRound!.selected].sort(), ['a', 'b']);
      assert.deepEqual(op, JSON.parse(JSON.stringify(own)), 'the operator gets the status itself');
      assert.equal(pub.currentRound!.selected.length, 2);
      for (const name of pub.currentRound!.selected) assert.ok(!['a', 'b'].includes(name), `raw id ${name} in the public status`);
      assert.deepEqual({ ...pub, currentRound: { ...pub.currentRound, selected: [] } }, { ...op, currentRound: { ...op.currentRound, selected: [] } });
    } finally {
      a.close();
      b.close();
    }
  });

  it('serves /api/model as framed binary with ETag = version, and 304 for If-None-Match', async () => {
    const { coordinator, url } = await startCoordinator({ rounds: 1 });
    const first = await fetch(`${url}/api/model`);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type')?.split(';')[0], MODEL_CONTENT_TYPE);
    const etag0 = first.headers.get('etag');
    assert.equal(etag0, '"model-v0"');
    const { header, body } = decodeFramed(new Uint8Array(await first.arrayBuffer()));
    assert.equal((header as { modelVersion: number }).modelVersion, 0);
    assert.deepEqual((header as { manifest: unknown }).manifest, manifest);
    assert.deepEqual(Array.from(body), new Array(SHARED).fill(0));

    const cached = await fetch(`${url}/api/model`, { headers: { 'If-None-Match': etag0! } });
    assert.equal(cached.status, 304);

    const client = await connectFakeClient(url, { clientId: 'a', fit: () => ({ kind: 'update', payload: constantUpdate(0.5, 2) }) });
    try {
      await coordinator.waitForVersion(1);
      const changed = await fetch(`${url}/api/model`, { headers: { 'If-None-Match': etag0! } });
      assert.equal(changed.status, 200);
      assert.equal(changed.headers.get('etag'), '"model-v1"');
      assert.deepEqual(Array.from(decodeFramed(new Uint8Array(await changed.arrayBuffer())).body), new Array(SHARED).fill(0.5));
    } finally {
      client.close();
    }
  });

  it('exposes Prometheus metrics: rounds, connected clients and failures by code', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 2, rounds: 1, operatorToken: 'operator-token-for-tests' });
    const a = await connectFakeClient(url, { clientId: 'a' });
    const b = await connectFakeClient(url, { clientId: 'b', fit: () => ({ kind: 'update', payload: { ...constantUpdate(1, 1), numExamples: 0 } }) });
    try {
      await coordinator.waitForVersion(1);
      const text = await (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer operator-token-for-tests' } })).text();
      assert.match(text, /^fedrec_rounds_committed_total 1$/m);
      assert.match(text, /^fedrec_connected_clients 2$/m);
      assert.match(text, /^fedrec_client_failures_total\{phase="fit",code="INVALID_PAYLOAD"\} 1$/m);
      assert.match(text, /^fedrec_model_version 1$/m);
    } finally {
      a.close();
      b.close();
    }
  });

  it('answers unknown paths with 404 JSON', async () => {
    const { url } = await startCoordinator();
    const res = await fetch(`${url}/api/nope`);
    assert.equal(res.status, 404);
  });
});
