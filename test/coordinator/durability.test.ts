import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FedAvgM } from '@fedrec/coordinator';
import { connectFakeClient, constantUpdate, startCoordinator, stopAll, tempDir, until } from './helpers.js';
import { manifest } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/durable-coordinator.ts', import.meta.url));
const children: ChildProcess[] = [];

/** Starts a coordinator in a child process (real process, real files) and resolves with its URL. */
async function spawnCoordinator(dir: string, evaluateEvery: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(evaluateEvery)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('coordinator child exited');
    }),
  ])) as [string];
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function served(url: string): Promise<{ version: number; etag: string | null; bytes: Buffer }> {
  const res = await fetch(`${url}/api/model`);
  return { version: Number(res.headers.get('x-fedrec-model-version')), etag: res.headers.get('etag'), bytes: Buffer.from(await res.arrayBuffer()) };
}

const status = async (url: string) => (await (await fetch(`${url}/api/status`)).json()) as { phase: string; modelVersion: number };

describe('coordinator: durable before served (kill -9 of a real coordinator process)', function () {
  this.timeout(120_000);
  let dir: string;
  let remove: () => Promise<void>;
  beforeEach(async () => ({ dir, remove } = await tempDir()));
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) await kill9(c);
    await stopAll();
    await remove();
  });

  it('a kill -9 during the evaluation phase never loses the version being served', async () => {
    const first = await spawnCoordinator(dir, 1);
    // Trains, then never answers the evaluation: the coordinator sits in its evaluation phase.
    const client = await connectFakeClient(first.url, {
      clientId: 'a',
      fit: () => ({ kind: 'update', payload: constantUpdate(0.5, 4) }),
      evaluate: () => 'silent',
    });
    let before: Awaited<ReturnType<typeof served>>;
    try {
      let s = await status(first.url);
      const poll = setInterval(() => void status(first.url).then((x) => (s = x)), 20);
      await until(() => s.phase === 'evaluate', 40_000, 'the evaluation phase');
      clearInterval(poll);
      before = await served(first.url);
      assert.equal(before.version, 1);
      await kill9(first.child);
    } finally {
      client.close();
    }
    const second = await spawnCoordinator(dir, 0);
    const after = await served(second.url);
    assert.equal(after.version, before.version, 'the served version survived');
    assert.equal(after.etag, before.etag);
    assert.ok(after.bytes.equals(before.bytes), 'the same weights under the same version and ETag');
  });

  it('a kill -9 right after a commit is announced never brings back an older version, and the next version is new weights', async () => {
    const first = await spawnCoordinator(dir, 0);
    let seen: Awaited<ReturnType<typeof served>> | undefined;
    const client = await connectFakeClient(first.url, { clientId: 'a', fit: () => ({ kind: 'update', payload: constantUpdate(0.5, 4) }) });
    try {
      await until(() => client.updates.length >= 2, 40_000, 'two commits');
      seen = await served(first.url);
      await kill9(first.child);
    } finally {
      client.close();
    }
    const second = await spawnCoordinator(dir, 0);
    const after = await served(second.url);
    assert.ok(after.version >= seen.version, `restarted at ${after.version}, had served ${seen.version}`);
    if (after.version === seen.version) assert.ok(after.bytes.equals(seen.bytes), 'a version keeps its weights');
    // Training on from there takes a new number for new weights.
    const again = await connectFakeClient(second.url, { clientId: 'b', fit: () => ({ kind: 'update', payload: constantUpdate(0.5, 4) }) });
    try {
      await until(() => again.updates.some((u) => u.modelVersion === after.version + 1), 40_000, 'the next commit');
      const nextModel = await served(second.url);
      assert.ok(nextModel.version > after.version);
      assert.ok(!nextModel.bytes.equals(after.bytes));
    } finally {
      again.close();
    }
  });

  it('a restarted coordinator restores the strategy state (FedAvgM velocity) from the checkpoint', async () => {
    const strategy = new FedAvgM();
    const first = await startCoordinator({ checkpointDir: dir, rounds: 2, strategy });
    const c = await connectFakeClient(first.url, { clientId: 'a', fit: () => ({ kind: 'update', payload: constantUpdate(0.25, 4) }) });
    await first.coordinator.waitForVersion(2);
    c.close();
    await first.coordinator.stop();
    const saved = strategy.saveState(manifest)!;
    assert.ok(
      saved['velocity']!['item_emb']!.some((x) => x !== 0),
      'the velocity moved',
    );
    const restarted = new FedAvgM();
    await startCoordinator({ checkpointDir: dir, rounds: 2, strategy: restarted });
    assert.deepEqual(restarted.saveState(manifest), saved);
  });
});
