/** Bumped on any incompatible change to events or payloads; checked in the handshake. */
export const PROTOCOL_VERSION = 1;
