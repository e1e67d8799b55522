import assert from 'node:assert/strict';
import { EnvelopeSealer, generateKeyPair, parseSecAggConfig, type Ack, type WeightManifest, type Weights } from '@fedrec/protocol';
import { SecAggClient, SecAggServer, contributionLayout, expandMaskJob, runCorrectionJob, type ExpandedMask } from '@fedrec/secagg';
import {
  advertiseKeysSchema,
  maskedInputSchema,
  pack,
  packedSchema,
  shareKeysSchema,
  unmaskResponseSchema,
  type ForwardedShares,
  type Roster,
  type UnmaskRequest,
} from '@fedrec/protocol';
import { TaskRunner } from '@fedrec/client-sdk/task-runner.js';
import type { CorrectionJobRunner, MaskExpander } from '@fedrec/client-sdk/secagg-participant-host.js';
import { TypedEmitter, silentLogger, type FederatedClientEvents, type FitOutcome, type TaskContext, type Trainer } from '@fedrec/client-sdk';
import { FakeSocket } from './helpers/fake-socket.js';
import { makeFitTask } from './helpers/fake-coordinator.js';

const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [4], dtype: 'float32', shared: true }] };
const global: Weights = { manifest, body: Float32Array.from([0.1, 0.2, 0.3, 0.4]) };

/** Trains to a fixed small delta; can be made to fail, or held until released. */
class GatedTrainer implements Trainer {
  failWith: Error | undefined;
  gate: Promise<void> | undefined;
  async fit(ctx: TaskContext): Promise<FitOutcome> {
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return { delta: ctx.global.body.map(() => 0.01 * ctx.roundId), numExamples: 10 + ctx.roundId, metrics: { loss: 0.5 } };
  }
  async evaluate() {
    return { numExamples: 7, metrics: { loss: 0.25 } };
  }
}

/** Fires a request at the runner's listener the way socket.io would, and resolves with its ack. */
function request(socket: FakeSocket, event: string, payload: unknown): Promise<Ack<unknown>> {
  return new Promise((resolve) => socket.fire(event, payload, resolve));
}

interface FitPath {
  runner: TaskRunner;
  socket: FakeSocket;
  events: string[];
  done: Array<FederatedClientEvents['fit:done']>;
  emitter: TypedEmitter<FederatedClientEvents>;
  /** Sends one fit task down this path; resolves with the ack of the request that carries the update. */
  fit(roundId: number): Promise<Ack<unknown>>;
}

/** One contract every way of running a fit (plain or masked) satisfies, since both go through the one runner. */
function fitPathContract(name: string, make: (trainer: Trainer) => FitPath) {
  describe(`fit path contract: ${name}`, function () {
    it('emits fit:start then fit:done with what the trainer counted and the bytes that left, and acks the update', async () => {
      const path = make(new GatedTrainer());
      const reply = await path.fit(3);
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.deepEqual(
        path.events.filter((e) => e.startsWith('fit:')),
        ['fit:start', 'fit:done'],
      );
      assert.equal(path.done.length, 1);
      const [done] = path.done;
      assert.deepEqual([done!.roundId, done!.numExamples, done!.metrics], [3, 13, { loss: 0.5 }]);
      assert.ok(done!.bytesSent > 0);
      assert.equal(path.runner.lastRoundId, 3);
      assert.equal(path.runner.isBusy(), false);
    });

    it('acks TRAINING_FAILED and reports one task:failed when the trainer throws', async () => {
      const trainer = new GatedTrainer();
      trainer.failWith = new Error('out of data');
      const path = make(trainer);
      const reply = await path.fit(2);
      assert.ok(!reply.ok);
      assert.equal(reply.error.code, 'TRAINING_FAILED');
      assert.match(reply.error.message, /out of data/);
      assert.deepEqual(
        path.events.filter((e) => e.startsWith('task:') || e.startsWith('fit:')),
        ['fit:start', 'task:failed:fit:TRAINING_FAILED'],
      );
    });

    it('runs one task at a time: an evaluation while it trains is BUSY', async () => {
      const trainer = new GatedTrainer();
      let release!: () => void;
      trainer.gate = new Promise((r) => (release = r));
      const path = make(trainer);
      const started = new Promise<void>((r) => path.emitter.once('fit:start', () => r()));
      const fit = path.fit(4);
      await started;
      assert.equal(path.runner.isBusy(), true);
      const busy = await request(path.socket, 'round:evaluate', makeFitTask({ weights: global, roundId: 4 }));
      assert.ok(!busy.ok);
      assert.equal(busy.error.code, 'BUSY');
      release();
      assert.equal((await fit).ok, true);
      const evaluated = await request(path.socket, 'round:evaluate', makeFitTask({ weights: global, roundId: 4 }));
      assert.ok(evaluated.ok);
      assert.deepEqual(Object.keys(evaluated.value as object), ['envelope'], 'the result travels sealed');
    });
  });
}

function runnerWith(trainer: Trainer, expandMasks?: MaskExpander, runCorrectionJobs?: CorrectionJobRunner): Omit<FitPath, 'fit'> {
  const emitter = new TypedEmitter<FederatedClientEvents>();
  const events: string[] = [];
  const done: FitPath['done'] = [];
  emitter.on('fit:done', (d) => done.push(d));
  for (const e of ['fit:start', 'fit:done', 'evaluate:start', 'evaluate:done', 'secagg:stage'] as const) emitter.on(e, () => events.push(e));
  emitter.on('task:failed', (f) => events.push(`task:failed:${f.kind}:${f.code}`));
  const sealer = new EnvelopeSealer(generateKeyPair().publicKey);
  const runner = new TaskRunner({
    trainer,
    logger: silentLogger,
    events: emitter,
    clientId: () => 'dev-1',
    sealer: () => sealer,
    ...(expandMasks ? { expandMasks } : {}),
    ...(runCorrectionJobs ? { runCorrectionJobs } : {}),
  });
  const socket = new FakeSocket('u', {});
  runner.serve(socket.asSocket());
  return { runner, socket, events, done, emitter };
}

/** A masked round between the runner's client ("dev-1") and three in-process peers, stage by stage. */
function maskedRound(socket: FakeSocket, roundId: number) {
  const config = parseSecAggConfig({ mode: 'secagg', maxWeight: 100 });
  const layout = contributionLayout(manifest);
  const server = new SecAggServer({ roundId, config, vectorLength: layout.vectorLength });
  const peers = new Map(
    ['peer-a', 'peer-b', 'peer-c'].map((id) => [id, new SecAggClient({ clientId: id, roundId, config, vectorLength: layout.vectorLength })]),
  );
  const task = { ...makeFitTask({ weights: global, roundId }), secureAggregation: { config } };
  const value = <T>(reply: Ack<unknown>, schema: { parse(v: unknown): T }): T => {
    assert.ok(reply.ok, JSON.stringify(reply));
    return schema.parse(reply.value);
  };
  return {
    task,
    async advertise(): Promise<Map<string, Roster>> {
      server.acceptAdvertisement('dev-1', value(await request(socket, 'secagg:advertise', task), packedSchema(advertiseKeysSchema)));
      for (const [id, p] of peers) server.acceptAdvertisement(id, p.advertiseKeys());
      return (server.closeAdvertisement() as { messages: Map<string, Roster> }).messages;
    },
    async shareKeys(rosters: Map<string, Roster>): Promise<Map<string, ForwardedShares>> {
      server.acceptShareKeys('dev-1', value(await request(socket, 'secagg:roster', pack(rosters.get('dev-1')!)), packedSchema(shareKeysSchema)));
      for (const [id, p] of peers) server.acceptShareKeys(id, await p.shareKeys(rosters.get(id)!));
      return (server.closeShareKeys() as { messages: Map<string, ForwardedShares> }).messages;
    },
    /** Stage 2: its ack carries the masked update. */
    forward(forwarded: Map<string, ForwardedShares>): Promise<Ack<unknown>> {
      return request(socket, 'secagg:forward', pack(forwarded.get('dev-1')!));
    },
    /** Stage 2 closed: dev-1's masked update (its forward ack) and the peers' not `gone`; the unmask requests. */
    unmaskRequests(forwarded: Map<string, ForwardedShares>, ack: Ack<unknown>, gone: string[]): Map<string, UnmaskRequest> {
      server.acceptMaskedInput('dev-1', value(ack, packedSchema(maskedInputSchema)));
      for (const [id, p] of peers) {
        if (gone.includes(id)) continue;
        p.receiveShares(forwarded.get(id)!);
        server.acceptMaskedInput(id, p.maskInput(new Uint32Array(layout.vectorLength)));
      }
      return (server.closeMaskedInput() as { messages: Map<string, UnmaskRequest> }).messages;
    },
    /** Stage 3 closed with dev-1's unmask ack and the other survivors' replies: the round's outcome. */
    async finish(requests: Map<string, UnmaskRequest>, ack: Ack<unknown>) {
      server.acceptUnmaskResponse('dev-1', value(ack, packedSchema(unmaskResponseSchema)));
      for (const [id, r] of requests) if (id !== 'dev-1') server.acceptUnmaskResponse(id, peers.get(id)!.unmask(r));
      return server.finish();
    },
  };
}

fitPathContract('plain (round:fit, sealed)', (trainer) => {
  const path = runnerWith(trainer);
  return { ...path, fit: (roundId) => request(path.socket, 'round:fit', makeFitTask({ weights: global, roundId })) };
});

fitPathContract('secure aggregation (secagg:* stages, masked)', (trainer) => {
  const path = runnerWith(trainer);
  const fit = async (roundId: number): Promise<Ack<unknown>> => {
    const round = maskedRound(path.socket, roundId);
    return round.forward(await round.shareKeys(await round.advertise()));
  };
  return { ...path, fit };
});

describe('task runner', function () {
  it('answers INVALID_PAYLOAD for a malformed request before any task starts', async () => {
    const { socket, events } = runnerWith(new GatedTrainer());
    for (const event of ['round:fit', 'round:evaluate', 'secagg:advertise', 'secagg:roster', 'secagg:forward', 'secagg:unmask']) {
      const reply = await request(socket, event, { roundId: 'one' });
      assert.ok(!reply.ok, event);
      assert.equal(reply.error.code, 'INVALID_PAYLOAD', event);
    }
    assert.deepEqual(events, []);
  });

  it('refuses a plain fit before there is a coordinator key to seal to', async () => {
    const emitter = new TypedEmitter<FederatedClientEvents>();
    const runner = new TaskRunner({ trainer: new GatedTrainer(), logger: silentLogger, events: emitter, clientId: () => 'dev-1', sealer: () => undefined });
    const socket = new FakeSocket('u', {});
    runner.serve(socket.asSocket());
    const reply = await request(socket, 'round:fit', makeFitTask({ weights: global }));
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'INTERNAL');
  });

  it('expands the masks when the forwarded shares arrive, while the device is still training', async () => {
    // The benchmark's "as the SDK schedules it" column assumes this order (bench/secagg/worker-rounds.ts): share keys
    // and receiveShares need no input, so neither may wait for the trainer (both answer here while it is gated).
    const trainer = new GatedTrainer();
    let release!: () => void;
    trainer.gate = new Promise((r) => (release = r));
    let trained = false;
    const fit = trainer.fit.bind(trainer);
    trainer.fit = async (ctx) => {
      const outcome = await fit(ctx);
      trained = true;
      return outcome;
    };
    const { socket } = runnerWith(trainer);
    const round = maskedRound(socket, 6);
    const forwarded = await round.shareKeys(await round.advertise());
    const expandedDuringTraining: boolean[] = [];
    const receiveShares = SecAggClient.prototype.receiveShares;
    SecAggClient.prototype.receiveShares = function (this: SecAggClient, shares: ForwardedShares) {
      expandedDuringTraining.push(!trained);
      receiveShares.call(this, shares);
    };
    try {
      const reply = round.forward(forwarded);
      assert.deepEqual(expandedDuringTraining, [true], 'the masks were expanded once, before training returned');
      release();
      assert.equal((await reply).ok, true);
      assert.equal(trained, true);
    } finally {
      SecAggClient.prototype.receiveShares = receiveShares;
    }
  });

  it('with an off-thread expander, training returns while the masks are still being expanded; the masked input waits for both', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const jobs: number[] = [];
    const expander: MaskExpander = async (job): Promise<ExpandedMask> => {
      jobs.push(job.peers.length);
      await held;
      return expandMaskJob(job);
    };
    const trainer = new GatedTrainer();
    let fitReturned!: () => void;
    const trained = new Promise<void>((r) => (fitReturned = r));
    const fit = trainer.fit.bind(trainer);
    trainer.fit = async (ctx) => {
      const outcome = await fit(ctx);
      fitReturned();
      return outcome;
    };
    const { socket } = runnerWith(trainer, expander);
    const round = maskedRound(socket, 7);
    const forwarded = await round.shareKeys(await round.advertise());
    let replied = false;
    const reply = round.forward(forwarded).then((ack) => ((replied = true), ack));
    assert.deepEqual(jobs, [3], 'the mask job (three neighbours) went to the expander at once');
    await trained;
    assert.equal(replied, false, 'no masked input before the masks are back');
    release();
    const ack = await reply;
    assert.equal(ack.ok, true, JSON.stringify(ack));
  });

  it('makes the unmask correction on the correction runner when it has one (a peer left after sharing keys); a failed correction ends the round with INTERNAL', async () => {
    for (const fails of [false, true]) {
      const jobs: number[] = [];
      const correct: CorrectionJobRunner = async (job) => {
        jobs.push(job.masks.length);
        if (fails) throw new Error('mask worker exited with code 1');
        return runCorrectionJob(job);
      };
      const { socket } = runnerWith(new GatedTrainer(), undefined, correct);
      const round = maskedRound(socket, fails ? 11 : 10);
      const forwarded = await round.shareKeys(await round.advertise());
      const requests = round.unmaskRequests(forwarded, await round.forward(forwarded), ['peer-c']);
      assert.deepEqual(requests.get('dev-1')!.dropped, ['peer-c']);
      const ack = await request(socket, 'secagg:unmask', pack(requests.get('dev-1')!));
      assert.deepEqual(jobs, [1], 'one correction job, for peer-c');
      if (fails) {
        assert.ok(!ack.ok);
        assert.equal(ack.error.code, 'INTERNAL');
        assert.match(ack.error.message, /mask worker exited/);
        // The round ended on the device: a second unmask request finds no round.
        const again = await request(socket, 'secagg:unmask', pack(requests.get('dev-1')!));
        assert.ok(!again.ok);
        assert.equal(again.error.code, 'ROUND_CLOSED');
      } else {
        assert.equal((await round.finish(requests, ack)).status, 'completed');
      }
    }
  });

  it('forgets a masked round when the coordinator sends its verdict, and passes the verdict on', async () => {
    const emitter = new TypedEmitter<FederatedClientEvents>();
    const verdicts: unknown[] = [];
    emitter.on('round:result', (r) => verdicts.push(r));
    const runner = new TaskRunner({ trainer: new GatedTrainer(), logger: silentLogger, events: emitter, clientId: () => 'dev-1', sealer: () => undefined });
    const socket = new FakeSocket('u', {});
    runner.serve(socket.asSocket());
    const round = maskedRound(socket, 9);
    const rosters = await round.advertise();
    const verdict = { roundId: 9, taskId: round.task.taskId, accepted: false, error: { code: 'ROUND_CLOSED' as const, message: 'too few' } };
    runner.roundResult({ roundId: 'bogus' });
    runner.roundResult(verdict);
    assert.deepEqual(verdicts, [verdict]);
    const late = await request(socket, 'secagg:roster', pack(rosters.get('dev-1')!));
    assert.ok(!late.ok);
    assert.equal(late.error.code, 'ROUND_CLOSED');
  });
});
