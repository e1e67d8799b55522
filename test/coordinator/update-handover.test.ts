import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { EnvelopeSealer, encodeUpdatePayload, generateKeyPair, type WeightManifest } from '@fedrec/protocol';
import { ownedBytes, UpdatePool } from '@fedrec/coordinator/update-pool/update-pool.js';

// The main thread's share of an update's bytes (issue 12): ws unmasks frames natively, and the ciphertext
// ws reassembled is moved to the update worker, not copied. Both rest on facts about ws and Socket.IO that
// a dependency update could change, so they are checked here over a real socket.
describe('coordinator: update bytes on the main thread', function () {
  this.timeout(60_000);

  it('ws unmasks client frames with bufferutil (native), not its per-byte JavaScript loop', () => {
    const fromWs = createRequire(createRequire(import.meta.url).resolve('ws'));
    const bufferutil = fromWs('bufferutil') as { unmask: unknown };
    const fallback = fromWs('bufferutil/fallback') as { unmask: unknown };
    assert.notEqual(bufferutil.unmask, fallback.unmask, 'bufferutil loaded its JavaScript fallback: its prebuilt binary did not load');
  });

  it('ownedBytes moves only a Buffer that owns its whole memory; views and callers’ arrays are copied', () => {
    const whole = Buffer.allocUnsafe(64 * 1024);
    assert.equal(ownedBytes(whole), whole);
    const view = whole.subarray(16, 1024);
    const copied = ownedBytes(view);
    assert.notEqual(copied, view);
    assert.deepEqual(Buffer.from(copied), Buffer.from(view));
    assert.equal(copied.byteLength, copied.buffer.byteLength);
    const callers = new Uint8Array(1024).fill(7); // e.g. an in-process device's own sealed bytes
    assert.notEqual(ownedBytes(callers), callers);
  });

  describe('over a real Socket.IO connection', () => {
    let http: HttpServer;
    let io: Server;
    let client: Socket;
    beforeEach(async () => {
      http = createServer();
      io = new Server(http, { maxHttpBufferSize: 8 << 20, perMessageDeflate: false });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'], reconnection: false });
    });
    afterEach(async () => {
      client.close();
      await io.close();
    });

    /** The server asks, the client acks with `attachment` inside an object (as a fit reply carries its envelope). */
    async function roundTrip(attachment: Uint8Array): Promise<Uint8Array> {
      const socket = await new Promise<ServerSocket>((r) => io.once('connection', r));
      client.on('ask', (_: unknown, ack: (v: unknown) => void) => ack({ envelope: { ciphertext: attachment } }));
      const reply = (await socket.timeout(30_000).emitWithAck('ask', {})) as { envelope: { ciphertext: Uint8Array } };
      return reply.envelope.ciphertext;
    }

    it('a 400 KB attachment arrives in a Buffer of its own, which the pool moves to its worker (the caller’s view is detached)', async () => {
      const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [100_000], dtype: 'float32', shared: true }] };
      const key = generateKeyPair();
      const binding = { roundId: 1, clientId: 'c', taskId: 't', modelVersion: 0 };
      const delta = new Float32Array(100_000).fill(0.001);
      const envelope = await new EnvelopeSealer(key.publicKey).seal(encodeUpdatePayload({ numExamples: 3, metrics: {}, delta }, manifest), binding);
      const size = envelope.ciphertext.byteLength;
      const received = await roundTrip(envelope.ciphertext);
      assert.ok(Buffer.isBuffer(received));
      assert.equal(received.byteLength, size);
      assert.equal(ownedBytes(received), received, 'ws/Socket.IO handed over a view into a larger buffer: the pool would copy every update');

      const pool = new UpdatePool({ size: 1, secretKey: key.secretKey });
      try {
        pool.beginRound(1, manifest, { maxUpdateBytes: 1 << 20, maxExamplesPerUpdate: 100 });
        const opened = await pool.open('c', { ...envelope, ciphertext: received }, binding);
        assert.equal(received.byteLength, 0, 'moved: the main thread no longer holds the bytes');
        assert.equal(opened.numExamples, 3);
        // A caller's own array (not a socket's Buffer) is copied: the caller keeps its bytes.
        const again = await pool.open('c', envelope, binding);
        assert.equal(envelope.ciphertext.byteLength, size);
        pool.discard(opened);
        pool.discard(again);
      } finally {
        await pool.close();
      }
    });
  });
});
