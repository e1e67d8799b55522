import assert from 'node:assert/strict';
import { get } from 'node:https';
import { generate } from 'selfsigned';
import { createCoordinator, type Coordinator } from '@fedrec/coordinator';
import { createFederatedClient, FederatedClientError, MemoryStore, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { DeterministicTrainer } from './fixtures/deterministic-trainer.js';
import { initialWeights, modelSpec } from '../coordinator/helpers.js';

/** A self-signed certificate for loopback, made in the test (nothing is downloaded or checked in). */
async function loopbackCertificate(): Promise<{ cert: string; key: string }> {
  const made = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: made.cert, key: made.private };
}

function httpsStatus(url: string, ca: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { ...(ca ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('end to end: TLS (https + wss) with a self-signed certificate', function () {
  this.timeout(60_000);
  let coordinator: Coordinator | undefined;
  const clients: FederatedClient[] = [];
  let cert: { cert: string; key: string };

  before(async () => {
    cert = await loopbackCertificate();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await coordinator?.stop();
    coordinator = undefined;
  });

  it('serves https and wss: a client trusting the certificate trains with the shared token; one that does not gets nowhere', async () => {
    coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      rounds: 1,
      minClients: 1,
      roundTimeoutMs: 20_000,
      modelSpec,
      initialWeights: initialWeights(),
      authToken: 'shared-secret',
      tls: cert,
    });
    const { url } = await coordinator.start();
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await httpsStatus(`${url}/healthz`, cert.cert), 200);
    await assert.rejects(httpsStatus(`${url}/healthz`, undefined), /self[- ]signed|certificate/i, 'an untrusted certificate is refused');
    await assert.rejects(fetch(`${url.replace('https', 'http')}/healthz`), 'no plain http on the TLS port');

    const base = { url, backend: false as const, token: 'shared-secret', reconnect: { enabled: false } };
    const untrusting = createFederatedClient({
      ...base,
      clientId: 'no-ca',
      store: new MemoryStore(),
      trainer: new DeterministicTrainer(2),
      connectTimeoutMs: 1_500,
    });
    clients.push(untrusting);
    await assert.rejects(untrusting.connect(), (err: unknown) => err instanceof FederatedClientError);
    assert.equal(untrusting.connected, false);

    const client = createFederatedClient({ ...base, clientId: 'tls-1', store: new MemoryStore(), trainer: new DeterministicTrainer(1), ca: cert.cert });
    clients.push(client);
    await client.connect();
    await coordinator.waitForVersion(1, 30_000);
    assert.equal(coordinator.status().roundsCommitted, 1);
  });

  it('a client refuses a plain http:// coordinator outside loopback before sending anything (INSECURE_TRANSPORT)', async () => {
    const client = createFederatedClient({
      url: 'http://fedrec.example.invalid:8080',
      token: 'would-leak',
      clientId: 'careful',
      backend: false,
      trainer: new DeterministicTrainer(3),
      reconnect: { enabled: false },
    });
    clients.push(client);
    await assert.rejects(client.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'INSECURE_TRANSPORT');
  });
});
