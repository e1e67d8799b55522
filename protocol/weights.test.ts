import assert from 'node:assert/strict';
import {
  bytesToFloat32,
  decodeWeights,
  encodeWeights,
  joinShared,
  rowWeightsSize,
  sameSharedLayout,
  sharedSize,
  splitShared,
  type WeightManifest,
} from './index.js';

const manifest: WeightManifest = {
  tensors: [
    { name: 'user', shape: [1, 3], dtype: 'float32', shared: false },
    { name: 'items', shape: [4, 3], dtype: 'float32', shared: true, rowwise: true },
    { name: 'bias', shape: [2], dtype: 'float32', shared: true },
  ],
};

describe('protocol: binary weight format', () => {
  it('counts only shared tensors in the body and rowwise rows in the row weights', () => {
    assert.equal(sharedSize(manifest), 14);
    assert.equal(rowWeightsSize(manifest), 4);
  });

  it('round-trips weights through the wire form as one binary attachment', () => {
    const body = Float32Array.from({ length: 14 }, (_, i) => i * 0.5 - 3);
    const wire = encodeWeights({ manifest, body });
    assert.ok(wire.body instanceof Uint8Array);
    assert.equal(wire.body.byteLength, 14 * 4);
    const back = decodeWeights(wire);
    assert.deepEqual(Array.from(back.body), Array.from(body));
  });

  it('decodes a Node Buffer that is a view into a larger packet at an unaligned offset', () => {
    const body = Float32Array.from({ length: 14 }, (_, i) => Math.sin(i));
    const packet = Buffer.alloc(3 + body.byteLength + 5);
    Buffer.from(body.buffer).copy(packet, 3);
    const view = packet.subarray(3, 3 + body.byteLength);
    assert.notEqual(view.byteOffset % 4, 0, 'the test needs an unaligned view');
    const back = decodeWeights({ manifest, body: view });
    assert.deepEqual(Array.from(back.body), Array.from(body));
    // The decoded floats own their memory: changing the packet does not change them.
    packet.fill(0);
    assert.equal(back.body[1], Math.fround(Math.sin(1)));
  });

  it('accepts an ArrayBuffer, as a browser receives attachments', () => {
    const body = new Float32Array(14).fill(2);
    const back = decodeWeights({ manifest, body: body.buffer.slice(0) });
    assert.equal(back.body[13], 2);
  });

  it('rejects a body whose length disagrees with the manifest', () => {
    assert.throws(() => decodeWeights({ manifest, body: new Uint8Array(13 * 4) }), /manifest wants 14/);
    assert.throws(() => bytesToFloat32(new Uint8Array(7)), /multiple of 4/);
    assert.throws(() => encodeWeights({ manifest, body: new Float32Array(3) }), RangeError);
  });

  it('rejects malformed manifests: duplicate names, bad dtype, rowwise on a vector', () => {
    const dup = { tensors: [manifest.tensors[1], manifest.tensors[1]] };
    assert.throws(() => decodeWeights({ manifest: dup, body: new Uint8Array(24 * 4) }), /duplicate tensor name/);
    const badType = { tensors: [{ ...manifest.tensors[2], dtype: 'float64' }] };
    assert.throws(() => decodeWeights({ manifest: badType, body: new Uint8Array(8) }));
    const rowVector = { tensors: [{ ...manifest.tensors[2], rowwise: true }] };
    assert.throws(() => decodeWeights({ manifest: rowVector, body: new Uint8Array(8) }), /rowwise/);
    assert.throws(() => decodeWeights({ manifest, body: [1, 2, 3] }), /binary attachment/);
  });

  it('splits and joins shared tensors by name in manifest order', () => {
    const body = Float32Array.from({ length: 14 }, (_, i) => i);
    const parts = splitShared(manifest, body);
    assert.deepEqual([...parts.keys()], ['items', 'bias']);
    assert.deepEqual(Array.from(parts.get('bias')!), [12, 13]);
    assert.deepEqual(Array.from(joinShared(manifest, parts)), Array.from(body));
  });

  it('compares shared layouts, ignoring private tensors', () => {
    const noPrivate = { tensors: manifest.tensors.filter((t) => t.shared) };
    assert.ok(sameSharedLayout(manifest, noPrivate));
    const reshaped = { tensors: [{ ...manifest.tensors[1]!, shape: [3, 4] }, manifest.tensors[2]!] };
    assert.ok(!sameSharedLayout(manifest, reshaped));
  });
});
