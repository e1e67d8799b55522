// The bulk-crypto section of `npm run bench -- coordinator` (`--only aead`): sealing and opening a
// session's envelopes with this version's code (EnvelopeSealer / EnvelopeOpener, the calls the coordinator's
// update workers and Node devices make) against tweetnacl's secretbox with the session key already agreed
// (nacl.box.after / box.open.after, protocol 2's steady state). All rows are timed in interleaved rounds of
// one rep each, so a burst of load on this shared machine hits every row alike; figures are medians.
import nacl from 'tweetnacl';
import { ENVELOPE_TAG_BYTES, envelopeCipher, EnvelopeOpener, EnvelopeSealer, generateKeyPair, type EnvelopeCipherName } from '@fedrec/protocol';

export interface AeadRow {
  name: string;
  /** Median wall-clock ms. */
  sealMs: number;
  openMs: number;
  /** Median process CPU ms: less sensitive than wall-clock to the scheduler of an oversubscribed machine. */
  sealCpuMs: number;
  openCpuMs: number;
  /** Per round: tweetnacl's seal time over this row's, in the same round (wall-clock). */
  sealRatios: number[];
}

export interface AeadResult {
  bytes: number;
  reps: number;
  rows: AeadRow[];
}

/** The row sealing into a reused buffer (its open is node:crypto's again, timed in the same round). */
export const REUSED = 'node:crypto, reused out';
/** The SDK's path (client-sdk/round-tasks.ts sealUpdate): sealInPlace into the freshly encoded payload's own memory. */
export const IN_PLACE = 'node:crypto, in place (SDK)';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

/** Wall-clock and process CPU (all threads: WebCrypto runs on the libuv pool) of one call, in ms. */
async function time(fn: () => unknown): Promise<[number, number]> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / 1e3];
}

/** Medians over `reps` interleaved rounds for one message size. */
export async function measureAead(bytes: number, reps: number): Promise<AeadResult> {
  const plaintext = nacl.randomBytes(bytes);
  const recipient = generateKeyPair();
  const binding = { roundId: 1, clientId: 'c', taskId: 't', modelVersion: 0 };

  const shared = nacl.box.before(recipient.publicKey, nacl.box.keyPair().secretKey);
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const boxed = nacl.box.after(plaintext, nonce, shared);
  if (!nacl.box.open.after(boxed, nonce, shared)) throw new Error('tweetnacl did not open its own box');

  const ours = await Promise.all(
    (['node:crypto', 'webcrypto'] as EnvelopeCipherName[]).map(async (name) => {
      const sealer = new EnvelopeSealer(recipient.publicKey, undefined, envelopeCipher(name));
      const opener = new EnvelopeOpener(recipient.secretKey, 8, envelopeCipher(name));
      const sample = await sealer.seal(plaintext, binding);
      await opener.open(sample, binding); // the session key is agreed and cached before timing
      return { name, sealer, opener, sample };
    }),
  );

  const t = new Map<string, Record<'seal' | 'open' | 'sealCpu' | 'openCpu', number[]>>();
  const add = (name: string, kind: 'seal' | 'open', [wall, cpu]: [number, number]) => {
    if (!t.has(name)) t.set(name, { seal: [], open: [], sealCpu: [], openCpu: [] });
    t.get(name)![kind].push(wall);
    t.get(name)![`${kind}Cpu`].push(cpu);
  };
  // node:crypto sealing into one reused output buffer (EnvelopeSealer.seal's `into`): the pages are touched once,
  // before timing, where a fresh buffer per message is first-touched on every call.
  const reused = new Uint8Array(bytes + ENVELOPE_TAG_BYTES);
  await ours[0]!.sealer.seal(plaintext, binding, reused);
  for (let r = 0; r < reps; r++) {
    add('tweetnacl secretbox', 'seal', await time(() => nacl.box.after(plaintext, nonce, shared)));
    add('tweetnacl secretbox', 'open', await time(() => nacl.box.open.after(boxed, nonce, shared)));
    for (const o of ours) {
      add(o.name, 'seal', await time(() => o.sealer.seal(plaintext, binding)));
      add(o.name, 'open', await time(() => o.opener.open(o.sample, binding)));
    }
    add(REUSED, 'seal', await time(() => ours[0]!.sealer.seal(plaintext, binding, reused)));
    add(REUSED, 'open', await time(() => ours[0]!.opener.open(ours[0]!.sample, binding)));
    // As the SDK does it: the encoder has just written the payload into a new buffer with room for the tag
    // (encodeUpdatePayload's `spare`; untimed here, it is the encoder's cost), and the seal overwrites it.
    const payload = new Uint8Array(new ArrayBuffer(bytes + ENVELOPE_TAG_BYTES), 0, bytes);
    payload.set(plaintext);
    add(IN_PLACE, 'seal', await time(() => ours[0]!.sealer.sealInPlace(payload, binding)));
    add(IN_PLACE, 'open', await time(() => ours[0]!.opener.open(ours[0]!.sample, binding)));
  }
  const naclSeal = t.get('tweetnacl secretbox')!.seal;
  const rows = [...t].map(([name, v]) => ({
    name,
    sealRatios: v.seal.map((ms, r) => naclSeal[r]! / ms),
    sealMs: median(v.seal),
    openMs: median(v.open),
    sealCpuMs: median(v.sealCpu),
    openCpuMs: median(v.openCpu),
  }));
  return { bytes, reps, rows };
}
