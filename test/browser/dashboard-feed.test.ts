import assert from 'node:assert/strict';
import { io, type Socket } from 'socket.io-client';
import type { FederatedClient } from '@fedrec/client-sdk';
import type { CoordinatorStatus } from '@fedrec/coordinator/coordinator-status.js';
import { createCoordinator, type Coordinator } from '@fedrec/coordinator';
import { dashboardExtension, DASHBOARD_NAMESPACE, type DashboardRound, type DashboardServerEvents, type DashboardSnapshot } from '@fedrec/dashboard';
import { startSimulatedClients } from '@fedrec/examples/browser-demo/simulated-clients.js';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { ensureBundles, waitFor } from './helpers.js';

describe('dashboard extension (Node side: page, assets, pushed events)', function () {
  this.timeout(60_000);
  let coordinator: Coordinator;
  let url: string;
  let clients: FederatedClient[] = [];
  let viewer: Socket<DashboardServerEvents> | undefined;

  const OPERATOR_TOKEN = 'dashboard-operator-token';
  const asOperator = { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } };

  before(async () => {
    await ensureBundles();
    const dataset = generateSyntheticInteractions({ users: 30, items: 150, interactionsPerUser: 12 });
    const modelSpec = { name: 'neumf', options: { numItems: dataset.numItems, factors: 4, layers: '8-4' } };
    coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      modelSpec,
      initialWeights: ncfInitialWeights(ncfArch('neumf', modelSpec.options), 1),
      minClients: 2,
      roundTimeoutMs: 10_000,
      roundIntervalMs: 100,
      evaluateEvery: 1,
      trainingConfig: { localEpochs: 1, batchSize: 16, learningRate: 0.05, optimizer: 'sgd', extra: { negatives: 2 } },
      extensions: [dashboardExtension()],
      operatorToken: OPERATOR_TOKEN,
    });
    ({ url } = await coordinator.start());
  });
  after(async () => {
    viewer?.close();
    await Promise.all(clients.map((c) => c.close()));
    await coordinator.stop();
  });

  it('serves the page and bundle, keeps the REST 404, and pushes a snapshot then rounds with their wire bytes', async () => {
    assert.equal((await fetch(`${url}/`)).status, 401, 'the page needs the operator credential');
    const page = await fetch(`${url}/`, asOperator);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/assets\/dashboard\.js">/);
    const bundle = await fetch(`${url}/assets/dashboard.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${url}/assets/wasm/tfjs-backend-wasm.wasm`)).headers.get('content-type'), 'application/wasm');
    assert.equal((await fetch(`${url}/no/such/page`)).status, 404);
    assert.equal((await fetch(`${url}/api/status`)).status, 200);

    const snapshots: DashboardSnapshot[] = [];
    const ended: DashboardRound[] = [];
    const clientLists: string[][] = [];
    viewer = io(`${url}${DASHBOARD_NAMESPACE}`, { transports: ['websocket'], forceNew: true, auth: { operatorToken: OPERATOR_TOKEN } });
    viewer.on('dashboard:snapshot', (s) => snapshots.push(s));
    viewer.on('dashboard:round-ended', (r) => ended.push(r));
    viewer.on('dashboard:clients', (c) => clientLists.push(c.map((x) => x.clientId)));
    const statuses: CoordinatorStatus[] = [];
    viewer.on('dashboard:status', (s) => statuses.push(s));
    const snap = await waitFor('the snapshot', () => snapshots[0]);
    assert.equal(snap.status.modelVersion, 0);
    assert.deepEqual(snap.rounds, []);
    assert.equal(coordinator.status().connectedClients, 0, 'a dashboard viewer is not a federated client');

    const dataset = generateSyntheticInteractions({ users: 30, items: 150, interactionsPerUser: 12 });
    const sealedBytes = new Map<number, number>();
    clients = await startSimulatedClients({ url, dataset, count: 2 });
    for (const c of clients) c.on('fit:done', (e) => sealedBytes.set(e.roundId, (sealedBytes.get(e.roundId) ?? 0) + e.bytesSent));
    const round = await waitFor(
      'a committed round pushed to the viewer',
      () => ended.find((r) => r.outcome === 'committed' && sealedBytes.has(r.roundId)),
      30_000,
    );
    assert.equal(round.participants.length, 2);
    assert.ok(round.evaluation && Number.isFinite(round.evaluation.metrics['hr10']));
    // The wire carried at least the sealed envelopes up, and at least the global weights down to each client.
    assert.ok(round.traffic!.bytesUp >= sealedBytes.get(round.roundId)!, `up ${round.traffic!.bytesUp} < sealed ${sealedBytes.get(round.roundId)}`);
    assert.ok(round.traffic!.bytesDown >= 2 * coordinator.currentWeights().body.byteLength);
    assert.ok(
      clientLists.some((l) => clients.every((c) => l.includes(c.clientId!))),
      'connected clients were pushed',
    );

    // Phase and current round agree in every pushed status, and the pause after a commit is pushed as such.
    await waitFor('a status between rounds', () => statuses.find((s) => s.phase === 'idle' && s.modelVersion > 0), 30_000);
    for (const s of statuses) assert.equal(s.phase === 'fit' || s.phase === 'evaluate', s.currentRound !== null, JSON.stringify(s));
    assert.equal(snap.status.minClients, 2, 'the status says how many clients a round waits for');
  });

  it('serves a favicon, so no page load logs a 404', async () => {
    for (const path of ['/favicon.ico', '/favicon.svg']) {
      const res = await fetch(`${url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /image\/svg\+xml/);
      assert.match(await res.text(), /^<svg /);
    }
    assert.match(await (await fetch(`${url}/`, asOperator)).text(), /<link rel="icon"[^>]*href="\/favicon\.svg"/);
  });
});
