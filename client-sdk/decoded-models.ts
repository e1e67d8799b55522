import { decodeWeights, type Weights, type WireWeights } from '@fedrec/protocol';

/** A downloaded model kept once: its wire form (what a device holds) and its validated decode. */
export interface DecodedModel {
  wire: WireWeights;
  weights: Weights;
}

/**
 * Decoded global models, shared by every client in this JS realm (a page, a Node process, a worker
 * thread). Measured on a 17,632-item NeuMF with 1,884 simulated devices in two worker threads
 * (README "The 17,632-item run"): each device decoded the model it held once to validate the download
 * and again for every task, which was half of the devices' CPU, and each kept its own 565 kB wire
 * copy and 1.7 MB decoded body (several GB over the fleet). Here a download is decoded once and,
 * when its bytes equal a model already held (compared in full, never by version number alone), the
 * held copy is reused, so the clients of one realm that hold the same version share one wire copy and
 * one decoded body. For a page with one client this changes nothing but the decode count.
 *
 * The shared `Weights` are read-only: a trainer receives them as `TaskContext.global` and must copy
 * what it changes (the SDK's trainers gather rows into their own arrays).
 */
export class DecodedModels {
  /** Decodes by body identity: a wire this cache handed out decodes to its entry without work. */
  private readonly byBody = new WeakMap<Uint8Array, DecodedModel>();
  /** The most recent distinct models, to find a download's equal (a round's version and the next). */
  private recent: DecodedModel[] = [];

  constructor(private readonly keep = 2) {}

  /**
   * Validates and decodes a downloaded wire (throws what decodeWeights throws) and returns the
   * model to hold: an equal one already held here, else this one, decoded once.
   */
  intern(wire: WireWeights): DecodedModel {
    const known = this.byBody.get(wire.body);
    if (known && sameHeader(known.wire, wire)) return known;
    const equal = this.recent.find((m) => sameHeader(m.wire, wire) && sameBytes(m.wire.body, wire.body));
    if (equal) return equal;
    const entry: DecodedModel = { wire, weights: decodeWeights(wire) };
    this.byBody.set(wire.body, entry);
    this.recent = [entry, ...this.recent].slice(0, this.keep);
    return entry;
  }

  /** The weights of a wire: its entry's when this cache holds that very body, else a fresh validated decode. */
  decode(wire: unknown): Weights {
    if (isWire(wire)) {
      const known = this.byBody.get(wire.body);
      if (known && sameHeader(known.wire, wire)) return known.weights;
    }
    return decodeWeights(wire);
  }
}

/** The realm's cache (model-fetch.ts and round-tasks.ts use it). */
export const decodedModels = new DecodedModels();

function isWire(v: unknown): v is WireWeights {
  return typeof v === 'object' && v !== null && (v as { body?: unknown }).body instanceof Uint8Array;
}

function sameHeader(a: WireWeights, b: WireWeights): boolean {
  return (
    (a.encoding ?? 'none') === (b.encoding ?? 'none') && a.body.byteLength === b.body.byteLength && JSON.stringify(a.manifest) === JSON.stringify(b.manifest)
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  // Word by word where both views allow it (a 1.7 MB body compares in about a millisecond).
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && a.byteLength % 4 === 0) {
    const x = new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    const y = new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
