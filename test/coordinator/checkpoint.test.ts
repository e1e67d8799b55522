import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointStore, checkpointFileName, silentLogger } from '@fedrec/coordinator';
import type { CheckpointState } from '@fedrec/coordinator';
import { SHARED, connectFakeClient, constantUpdate, initialWeights, manifest, modelSpec, startCoordinator, stopAll, tempDir } from './helpers.js';

function state(version: number, fill: number): CheckpointState {
  return { modelVersion: version, nextRoundId: version + 2, modelSpec, weights: initialWeights(fill), history: [], savedAt: Date.now() };
}

describe('coordinator: checkpoints', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeEach(async () => ({ dir, remove } = await tempDir()));
  afterEach(async () => {
    await stopAll();
    await remove();
  });

  it('writes through a temp file and leaves only complete checkpoints, pruning old ones', async () => {
    const store = new CheckpointStore(dir, 2, silentLogger);
    for (let v = 1; v <= 4; v++) await store.save(state(v, v));
    const files = await readdir(dir);
    assert.deepEqual(files.sort(), [checkpointFileName(3), checkpointFileName(4)]);
    const latest = await store.loadLatest();
    assert.equal(latest?.modelVersion, 4);
    assert.equal(latest?.nextRoundId, 6);
    assert.deepEqual(Array.from(latest!.weights.body), new Array(SHARED).fill(4));
  });

  it('skips a damaged newest checkpoint and ignores half-written temp files', async () => {
    const store = new CheckpointStore(dir, 5, silentLogger);
    await store.save(state(1, 1));
    await store.save(state(2, 2));
    // A crash mid-write leaves a temp file; a disk error could truncate a file.
    await writeFile(join(dir, `.tmp-${checkpointFileName(3)}.123.abcd`), 'partial');
    const newest = join(dir, checkpointFileName(2));
    const bytes = await readFile(newest);
    await writeFile(newest, bytes.subarray(0, bytes.length - 8));
    const latest = await store.loadLatest();
    assert.equal(latest?.modelVersion, 1);
    // Flipped body bits are caught by the checksum too.
    const flipped = Buffer.from(bytes);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 0xff, flipped.length - 1);
    await writeFile(newest, flipped);
    assert.equal((await store.loadLatest())?.modelVersion, 1);
    await store.removeLeftovers();
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('.tmp-')));
  });

  it('a restarted coordinator resumes version, weights, round counter, history and key', async () => {
    const first = await startCoordinator({ checkpointDir: dir, rounds: 2 });
    const c = await connectFakeClient(first.url, { clientId: 'a', fit: () => ({ kind: 'update', payload: constantUpdate(0.25, 4) }) });
    await first.coordinator.waitForVersion(2);
    c.close();
    const before = {
      weights: Array.from(first.coordinator.currentWeights().body),
      history: first.coordinator.history().map((r) => r.roundId),
      status: first.coordinator.status(),
    };
    await first.coordinator.stop();
    const keyStat = await stat(join(dir, 'coordinator-key.json'));
    assert.equal(keyStat.mode & 0o777, 0o600);

    const second = await startCoordinator({ checkpointDir: dir, rounds: 3, initialWeights: initialWeights(99) });
    assert.equal(second.coordinator.modelVersion, 2);
    assert.deepEqual(Array.from(second.coordinator.currentWeights().body), before.weights);
    assert.deepEqual(Array.from(second.coordinator.currentWeights().body), new Array(SHARED).fill(0.5));
    assert.deepEqual(
      second.coordinator.history().map((r) => r.roundId),
      before.history,
    );
    assert.equal(second.coordinator.status().fingerprint, before.status.fingerprint);
    assert.equal(second.coordinator.status().nextRoundId, before.status.nextRoundId);

    const c2 = await connectFakeClient(second.url, { clientId: 'a', fit: () => ({ kind: 'update', payload: constantUpdate(0.25, 4) }) });
    try {
      assert.equal(c2.welcome.modelVersion, 2);
      await second.coordinator.waitForVersion(3);
      const history = second.coordinator.history();
      assert.equal(history.length, 3);
      assert.ok(history[2]!.roundId > history[1]!.roundId, 'round ids continue after a restart');
      assert.equal(second.coordinator.currentWeights().body[0], 0.75);
    } finally {
      c2.close();
    }
  });

  it('refuses to resume a checkpoint of a different model layout', async () => {
    const store = new CheckpointStore(dir, 2, silentLogger);
    await store.save(state(1, 1));
    const other = { manifest: { tensors: [{ ...manifest.tensors[0]!, shape: [3, 3] }] }, body: new Float32Array(9) };
    await assert.rejects(startCoordinator({ checkpointDir: dir, initialWeights: other }), /different model layout/);
  });
});
