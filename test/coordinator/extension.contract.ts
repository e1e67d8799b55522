import assert from 'node:assert/strict';
import type { CoordinatorExtension } from '@fedrec/coordinator';
import { connectFakeClient, startCoordinator, stopAll } from './helpers.js';

/**
 * What every CoordinatorExtension (coordinator/extension.ts) must keep true: it adds to the coordinator
 * without taking anything away. A new extension is one file plus one `extensionContract(...)` line in
 * extensions.test.ts.
 */
export function extensionContract(name: string, create: () => CoordinatorExtension): void {
  describe(`CoordinatorExtension contract: ${name}`, () => {
    afterEach(stopAll);

    it('leaves the REST API and its JSON 404 as they are', async () => {
      const { url } = await startCoordinator({ extensions: [create()] });
      assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { ok: true });
      const status = await fetch(`${url}/api/status`);
      assert.equal(status.status, 200);
      assert.equal(((await status.json()) as { modelVersion: number }).modelVersion, 0);
      const missing = await fetch(`${url}/api/no-such-route`);
      assert.equal(missing.status, 404);
      assert.match(missing.headers.get('content-type') ?? '', /json/);
    });

    it('leaves training alone: a client joins and a round commits', async () => {
      const { coordinator, url } = await startCoordinator({ extensions: [create()], rounds: 1 });
      const client = await connectFakeClient(url, { clientId: 'ext-a' });
      try {
        await coordinator.waitForVersion(1);
        assert.equal(coordinator.status().modelVersion, 1);
      } finally {
        client.close();
      }
    });

    it('is detached on stop, and the port is closed after', async () => {
      const ext = create();
      let detached = false;
      const detach = ext.detach?.bind(ext);
      const wrapped: CoordinatorExtension = {
        name: ext.name,
        attach: (host) => ext.attach(host),
        detach: async () => {
          detached = true;
          await detach?.();
        },
      };
      const { coordinator, url } = await startCoordinator({ extensions: [wrapped] });
      await coordinator.stop();
      assert.ok(detached, 'detach called on stop');
      await assert.rejects(fetch(`${url}/healthz`));
    });
  });
}
