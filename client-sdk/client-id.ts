const CLIENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export function isValidClientId(id: string): boolean {
  return CLIENT_ID_PATTERN.test(id);
}

/** A random id from Web Crypto (global in browsers and Node >= 19). */
export function generateClientId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return `client-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
