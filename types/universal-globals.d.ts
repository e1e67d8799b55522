// The few globals that Node 20+ and every browser both provide. Packages that run in both
// (protocol, secagg, models, recsys) compile against ES2022 plus these, never against DOM or
// @types/node, so a browser-only or Node-only global in them is a type error.

interface TextEncoder {
  encode(input?: string): Uint8Array;
}
declare var TextEncoder: { new (): TextEncoder };

interface TextDecoder {
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
declare var TextDecoder: { new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder };

declare var performance: { now(): number };
