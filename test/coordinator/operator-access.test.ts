import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { DASHBOARD_NAMESPACE, dashboardExtension } from '@fedrec/dashboard';
import { connectErrorData, connectFakeClient, startCoordinator, stopAll } from './helpers.js';

const TOKEN = 'a-long-operator-token';
const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = { authorization: `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}` };

/** Whether a dashboard viewer gets in: its snapshot, or the refusal's code. */
function watch(url: string, options: Record<string, unknown> = {}): Promise<{ snapshot: unknown } | { refused: string | undefined }> {
  const viewer = io(`${url}${DASHBOARD_NAMESPACE}`, { transports: ['websocket'], forceNew: true, reconnection: false, ...options });
  return new Promise((resolve) => {
    viewer.once('dashboard:snapshot' as never, (snapshot: unknown) => {
      viewer.close();
      resolve({ snapshot });
    });
    viewer.once('connect_error', (err) => {
      viewer.close();
      resolve({ refused: connectErrorData(err)?.code });
    });
  });
}

describe('coordinator: operator access', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  it('with an operator token: /api/rounds, /metrics, the dashboard page and namespace refuse everyone else', async () => {
    const { coordinator, url } = await startCoordinator({ operatorToken: TOKEN, rounds: 1, extensions: [dashboardExtension()] });
    const client = await connectFakeClient(url, { clientId: 'secret-id' });
    try {
      await coordinator.waitForVersion(1);
      for (const path of ['/api/rounds', '/metrics', '/']) {
        const anonymous = await fetch(`${url}${path}`);
        assert.equal(anonymous.status, 401, `${path} without a credential`);
        assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /, 'a browser prompts');
        assert.equal((await fetch(`${url}${path}`, { headers: { authorization: 'Bearer wrong-token' } })).status, 401);
      }
      const rounds = await fetch(`${url}/api/rounds`, { headers: bearer });
      assert.equal(rounds.status, 200);
      assert.match(await rounds.text(), /secret-id/, 'the operator sees client ids');
      assert.equal((await fetch(`${url}/metrics`, { headers: basic })).status, 200, 'Basic auth with the token as password');
      // The page hands the browser a session cookie; the dashboard socket carries it.
      const page = await fetch(`${url}/`, { headers: basic });
      const cookie = page.headers.get('set-cookie')?.split(';')[0];
      assert.ok(cookie, 'a session cookie');
      assert.equal((await fetch(`${url}/api/rounds`, { headers: { cookie } })).status, 200);
      assert.deepEqual(await watch(url), { refused: 'UNAUTHORIZED' });
      assert.deepEqual(await watch(url, { auth: { operatorToken: 'nope' } }), { refused: 'UNAUTHORIZED' });
      assert.ok('snapshot' in (await watch(url, { auth: { operatorToken: TOKEN } })));
      assert.ok('snapshot' in (await watch(url, { extraHeaders: { cookie } })));
      // Still public: health, status (no ids), and the model (what every client receives anyway).
      for (const path of ['/healthz', '/api/status', '/api/model']) assert.equal((await fetch(`${url}${path}`)).status, 200, path);
    } finally {
      client.close();
    }
  });

  it('without an operator token: public views show stable pseudonyms, never raw client ids', async () => {
    const { coordinator, url } = await startCoordinator({ rounds: 1, extensions: [dashboardExtension()] });
    const client = await connectFakeClient(url, { clientId: 'secret-id' });
    try {
      await coordinator.waitForVersion(1);
      const text = await (await fetch(`${url}/api/rounds`)).text();
      assert.doesNotMatch(text, /secret-id/);
      const { rounds } = JSON.parse(text) as { rounds: Array<{ participants: string[] }> };
      const pseudonym = rounds[0]!.participants[0]!;
      assert.match(pseudonym, /^p-[0-9a-f]{16}$/);
      const again = (await (await fetch(`${url}/api/rounds`)).json()) as { rounds: Array<{ participants: string[] }> };
      assert.equal(again.rounds[0]!.participants[0], pseudonym, 'stable');
      const watched = await watch(url);
      assert.ok('snapshot' in watched);
      assert.doesNotMatch(JSON.stringify(watched.snapshot), /secret-id/);
      assert.match(JSON.stringify(watched.snapshot), new RegExp(pseudonym));
    } finally {
      client.close();
    }
  });
});
