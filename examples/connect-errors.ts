// What a person should do about each way a client can fail to join a coordinator; the examples
// print this instead of a stack trace (README "Troubleshooting" lists the same causes). Universal: the
// own-data page shows it too.
import { FederatedClientError } from '@fedrec/client-sdk';

const WHAT_TO_DO: Record<string, (url: string) => string> = {
  CONNECTION_REFUSED: (url) => `nothing accepts connections at ${url}: start the coordinator (npm start) or fix --url (host and port)`,
  HOST_NOT_FOUND: (url) => `the host name in ${url} does not resolve: check --url for a typo, or use an IP address`,
  TLS_ERROR: () =>
    'the TLS handshake failed: use http:// for a coordinator without a TLS certificate, or trust its certificate (NODE_EXTRA_CA_CERTS=ca.pem) when it has one',
  PROTOCOL_VERSION_MISMATCH: () => 'this client and the coordinator speak different protocol versions: run the same fedrec release on both sides',
  UNAUTHORIZED: () => 'the coordinator wants a token: pass --token with the value it was started with (--auth-token / FEDREC_AUTH_TOKEN)',
  FINGERPRINT_MISMATCH: () =>
    "the coordinator's key is not the one pinned with --fingerprint: if its key was replaced on purpose, pin the new fingerprint (GET /api/status); otherwise do not trust this server",
  INSECURE_TRANSPORT: (url) =>
    `${url} is plain http to another machine, where a token or a device proof could be read on the way: use https:// (the coordinator's --tls-cert/--tls-key, or a TLS reverse proxy), or pass --allow-insecure on a network you trust`,
  IDENTITY_MISMATCH: () =>
    'the coordinator already knows this client id with another device key: use the --device-dir this device was created with, or a new one (a new id)',
  PROOF_REJECTED: () =>
    "the coordinator did not accept this device's signature: retry; if it persists, check the clocks and that nothing rewrites the connection",
  NOT_ENROLLED: () => "the coordinator admits enrolled devices only: have the app's backend enrol this device's key (client.devicePublicKey())",
  RATE_LIMITED: () => 'too many connections or handshakes from this address: wait a moment and retry, or ask the operator to raise the limits',
  CONNECT_TIMEOUT: (url) => `no welcome from ${url} in time: is it a fedrec coordinator, and does a proxy or firewall pass WebSockets?`,
};

/** One or two lines for a person: the cause (with its code) and what to do; undefined for errors that are bugs. */
export function explainConnectError(err: unknown, url: string): string | undefined {
  if (!(err instanceof FederatedClientError)) return undefined;
  const todo = WHAT_TO_DO[err.code];
  return todo ? `${err.code}: ${err.message}\n  what to do: ${todo(url)}` : `${err.code}: ${err.message}`;
}
