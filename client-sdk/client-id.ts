import { fromHex, generateSignKeyPair, signKeyPairFromSecretKey, toHex, type SignKeyPair } from '@fedrec/protocol';
import { getString, type BehaviourStore } from './store/behaviour-store.js';

const CLIENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Where a device keeps its client id in its behaviour store. */
export const CLIENT_ID_KEY = 'fedrec:clientId';

export function isValidClientId(id: string): boolean {
  return CLIENT_ID_PATTERN.test(id);
}

/** A random id from Web Crypto (global in browsers and Node >= 19). */
export function generateClientId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return `client-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The id saved in the store, or a fresh one saved there, so a device keeps one id across restarts. */
export async function loadOrCreateClientId(store: BehaviourStore, generate: () => string = generateClientId): Promise<string> {
  const stored = await getString(store, CLIENT_ID_KEY);
  if (stored && isValidClientId(stored)) return stored;
  const id = generate();
  await store.set(CLIENT_ID_KEY, id);
  return id;
}

/** Where a device keeps its ed25519 signing key (hex secret key) in its behaviour store. */
export const DEVICE_KEY_KEY = 'fedrec:deviceSigningKey';

/**
 * The device's signing key pair: created on first run and kept in the store next to the client id.
 * The coordinator binds the client id to its public key at first registration, so a device that
 * loses its store (or its key) must come back under a new client id.
 */
export async function loadOrCreateDeviceIdentity(store: BehaviourStore, generate: () => SignKeyPair = generateSignKeyPair): Promise<SignKeyPair> {
  const stored = await getString(store, DEVICE_KEY_KEY);
  if (stored && /^[0-9a-f]{128}$/.test(stored)) return signKeyPairFromSecretKey(fromHex(stored));
  const pair = generate();
  await store.set(DEVICE_KEY_KEY, toHex(pair.secretKey));
  return pair;
}
