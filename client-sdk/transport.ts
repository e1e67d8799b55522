import { FederatedClientError } from './errors.js';

/** Hosts whose traffic never leaves the machine: plain http there is no eavesdropping risk. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Refuses a coordinator URL that would carry the handshake (device key, token) and updates in clear
 * text: http:// or ws:// outside loopback, unless the app says `allowInsecure` (say, a test network
 * or TLS terminated by something the app trusts). Throws INSECURE_TRANSPORT.
 */
export function checkTransport(url: string, allowInsecure: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FederatedClientError('INVALID_PAYLOAD', `coordinator URL ${url} is not a URL`);
  }
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  if (secure || allowInsecure || isLoopbackHost(parsed.hostname)) return;
  throw new FederatedClientError(
    'INSECURE_TRANSPORT',
    `refusing plain ${parsed.protocol}// to ${parsed.hostname}: use https:// (TLS), or set allowInsecure: true on a network you trust`,
  );
}
