import { bytesToFloat32 } from '@fedrec/protocol';

const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/**
 * The coordinator's binary file format, used for /api/model and for checkpoints:
 *   u32 little-endian header length | UTF-8 JSON header | zero padding to 4 bytes | float32 LE body.
 * The same layout as the sealed update payload, so one small reader handles both.
 */
export function encodeFramed(header: unknown, body: Float32Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bodyStart = Math.ceil((4 + json.length) / 4) * 4;
  const out = new Uint8Array(bodyStart + body.byteLength);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), bodyStart);
  return out;
}

export function decodeFramed(bytes: Uint8Array): { header: unknown; body: Float32Array } {
  if (bytes.length < 4) throw new RangeError('framed file too short');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES || 4 + headerLength > bytes.length) throw new RangeError('framed file: bad header length');
  const header: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
  const bodyStart = Math.ceil((4 + headerLength) / 4) * 4;
  if (bodyStart > bytes.length) throw new RangeError('framed file: truncated');
  return { header, body: bytesToFloat32(bytes.subarray(bodyStart)) };
}
