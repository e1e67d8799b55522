import assert from 'node:assert/strict';
import { generateSignKeyPair } from '@fedrec/protocol';
import { connectFakeClient, connectErrorData, deviceKeyOf, tempDir } from '../coordinator/helpers.js';
import { startNode, stopNodes, useRedisServer } from './helpers.js';

describe('cluster: the signed-identity table is shared', function () {
  this.timeout(60_000);
  const redis = useRedisServer();

  it('a client moving from node A to node B keeps its binding; an impostor is refused on B (and on A)', async () => {
    const shared = await tempDir();
    try {
      const a = await startNode(redis.url, shared.dir, { minClients: 5 }, { nodeId: 'a', prefix: 'idm:' });
      const b = await startNode(redis.url, shared.dir, { minClients: 5 }, { nodeId: 'b', prefix: 'idm:' });
      const onA = await connectFakeClient(a.url, { clientId: 'wanderer' });
      onA.close();
      // Same device key on the other node: welcomed.
      const onB = await connectFakeClient(b.url, { clientId: 'wanderer', identity: deviceKeyOf('wanderer') });
      onB.close();
      for (const url of [b.url, a.url]) {
        const refused = await connectFakeClient(url, { clientId: 'wanderer', identity: generateSignKeyPair() }).then(
          () => undefined,
          (err: unknown) => err,
        );
        assert.ok(refused, 'the impostor is not welcomed');
        const code = (refused as { data?: { code?: string } }).data?.code ?? connectErrorData(refused)?.code;
        assert.equal(code, 'IDENTITY_MISMATCH');
      }
    } finally {
      await stopNodes();
      await shared.remove();
    }
  });
});
