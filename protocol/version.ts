/** Bumped on any incompatible change to events or payloads; checked in the handshake. 2: device keys and the signed challenge. 3: AES-256-GCM envelopes keyed by HKDF of the X25519 agreement. 4: upload pacing (a plain fit's update waits for an upload:slot grant). */
export const PROTOCOL_VERSION = 4;
