/** Bumped on any incompatible change to events or payloads; checked in the handshake. 2: device keys and the signed challenge. */
export const PROTOCOL_VERSION = 2;
