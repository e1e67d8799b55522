import { randomBytes } from 'node:crypto';
import { PROTOCOL_VERSION, ProtocolError, catalogueGetSchema, fingerprint, modelGetSchema, proofSchema } from '@fedrec/protocol';
import type { CatalogueSnapshot, KeyPair, ModelSnapshot } from '@fedrec/protocol';
import { AddressLimits } from './address-limits.js';
import type { ClientRegistry } from './client-registry.js';
import { EnrolmentPolicy } from './enrolment.js';
import type { EmitCoordinatorEvent } from './events.js';
import { handshakeMiddleware } from './handshake.js';
import { IdentityRegistry } from './identity-registry.js';
import type { IdentityStore } from './identity-registry.js';
import { LogRateLimiter } from './log-limiter.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { CoordinatorMetrics } from './metrics.js';
import { verifyHandshakeProofNative } from './signature-verifier.js';
import { socketHandler } from './socket-handler.js';
import type { ClientSocket, CoordinatorServer } from './socket-types.js';

/** Identity and abuse settings; each has a default (in-memory bindings, open enrolment, the options' default limits). */
export interface ConnectionSecurity {
  identities: IdentityStore;
  enrolment: EnrolmentPolicy;
  limits: AddressLimits;
  /** Caps the log lines each client or address can cause. */
  logs: LogRateLimiter;
  trustProxy: boolean;
  /** How long a new connection has to answer the challenge before it is dropped. */
  handshakeTimeoutMs: number;
}

export interface ConnectionDeps extends Partial<ConnectionSecurity> {
  authToken: string | undefined;
  registry: ClientRegistry;
  metrics: Pick<CoordinatorMetrics, 'connectedClients'>;
  keyPair: KeyPair;
  emit: EmitCoordinatorEvent;
  /** The model version a new client is welcomed with. */
  modelVersion(): number;
  /** Answers `model:get` (the version the request names, if any; see model-file.ts ModelServing). */
  snapshot(modelVersion?: number): ModelSnapshot;
  /** The catalogue version a new client is welcomed with, and the answer to `catalogue:get`. */
  catalogueVersion?(): number | undefined;
  catalogue?(since?: number): CatalogueSnapshot;
  logger: Logger;
}

/**
 * Everything between a socket and the round engine: the handshake middleware, then per connection a
 * signed challenge (the device proves it holds the key its client id is bound to), and only then the
 * registry (newest proven connection of a client id wins), the `model:get` handler, an answer to
 * unknown events, and the welcome that carries the coordinator's public key.
 */
export function handleConnections(io: CoordinatorServer, input: ConnectionDeps): void {
  const deps: ResolvedDeps = {
    identities: new IdentityRegistry(undefined, input.logger),
    enrolment: new EnrolmentPolicy(undefined, undefined),
    limits: new AddressLimits({ maxConnectionsPerAddress: 256, maxHandshakesPerSecond: 50 }),
    logs: new LogRateLimiter(input.logger, 30),
    trustProxy: false,
    handshakeTimeoutMs: 10_000,
    ...withoutUndefined(input),
  };
  io.use(handshakeMiddleware(deps));
  io.on('connection', (socket) => challenge(socket, deps));
}

type ResolvedDeps = ConnectionDeps & ConnectionSecurity;

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Sends a one-time nonce and waits for its signature; an unproven socket gets no task and no model. */
function challenge(socket: ClientSocket, deps: ResolvedDeps): void {
  const { clientId, publicKey, address } = socket.data;
  const logger = deps.logs.forKey(`address:${address}`, { clientId });
  deps.limits.opened(address);
  const coordinatorFingerprint = fingerprint(deps.keyPair.publicKey);
  let nonce: Uint8Array | undefined = new Uint8Array(randomBytes(32));
  let proven = false;
  const expiry = setTimeout(() => {
    nonce = undefined;
    logger.warn({ clientId, address }, 'no handshake proof in time; dropping the connection');
    socket.disconnect(true);
  }, deps.handshakeTimeoutMs);
  const drop = (): void => {
    // After the refusal's ack has gone out.
    setImmediate(() => socket.disconnect(true));
  };

  socket.on('disconnect', () => {
    clearTimeout(expiry);
    deps.limits.closed(address);
  });
  socket.on(
    'session:prove',
    socketHandler('session:prove', proofSchema, logger, async (proof) => {
      const used = nonce;
      nonce = undefined; // one attempt per nonce: a replay or a second try is refused
      if (proven || used === undefined) throw new ProtocolError('PROOF_REJECTED', 'this connection has no open challenge (a nonce is used once)');
      clearTimeout(expiry);
      const context = { nonce: used, clientId, fingerprint: coordinatorFingerprint, protocolVersion: PROTOCOL_VERSION };
      // node:crypto's Ed25519, not tweetnacl's: ~40x less event-loop time per connection (signature-verifier.ts).
      if (!verifyHandshakeProofNative(publicKey, proof, context)) {
        drop();
        throw new ProtocolError('PROOF_REJECTED', "the signature does not match the device key and this connection's nonce");
      }
      // Awaited: a shared store (several nodes) decides atomically in Redis.
      if ((await deps.identities.bind(clientId, publicKey)) === 'mismatch') {
        drop();
        throw new ProtocolError('IDENTITY_MISMATCH', `client id ${clientId} belongs to another device key`);
      }
      proven = true;
      // Registered after the ack is on its way, so the welcome follows the proof's answer.
      setImmediate(() => {
        if (socket.connected) onProven(socket, deps);
      });
      return null;
    }),
  );
  socket.onAny((event: string, ...args: unknown[]) => {
    if (event === 'session:prove' || proven) return;
    logger.warn({ clientId, event }, 'event before the handshake proof');
    answerError(args, 'UNAUTHORIZED', `${event}: prove the device key first (answer session:challenge)`, logger);
  });
  socket.emit('session:challenge', {
    nonce,
    coordinatorPublicKey: deps.keyPair.publicKey,
    fingerprint: coordinatorFingerprint,
    protocolVersion: PROTOCOL_VERSION,
  });
}

function onProven(socket: ClientSocket, deps: ResolvedDeps): void {
  const { registry, metrics } = deps;
  const { clientId } = socket.data;
  const logger = deps.logs.forKey(`client:${clientId}`, { clientId });
  // The HTTP upgrade request engine.io keeps for the connection's lifetime (headers, raw headers, parser
  // state: ~1 KB a client) is no longer needed: the handshake read what it needed (socket.data, and
  // socket.handshake keeps its own copy of the headers). Socket.IO's memory guide drops it the same way.
  (socket.conn as { request: unknown }).request = null;
  const previous = registry.add(socket);
  if (previous) {
    logger.info({ clientId }, 'client reconnected; closing its older connection');
    previous.disconnect(true);
  }
  metrics.connectedClients.set(registry.size);
  logger.info({ clientId, connected: registry.size }, 'client connected');
  deps.emit('client:connected', { clientId, ...(socket.data.runtime ? { runtime: socket.data.runtime } : {}) });

  socket.on('disconnect', (reason) => {
    if (registry.remove(socket)) {
      metrics.connectedClients.set(registry.size);
      logger.info({ clientId, reason }, 'client disconnected');
      deps.emit('client:disconnected', { clientId, reason });
    }
  });
  socket.on(
    'model:get',
    socketHandler('model:get', modelGetSchema, logger, (request) => deps.snapshot(request?.modelVersion)),
  );
  const catalogue = deps.catalogue;
  if (catalogue) {
    socket.on(
      'catalogue:get',
      socketHandler('catalogue:get', catalogueGetSchema, logger, (request) => catalogue(request?.since)),
    );
  }
  // Unknown events with an ack get an answer instead of silence.
  socket.onAny((event: string, ...args: unknown[]) => {
    if (event === 'model:get' || event === 'session:prove' || (catalogue && event === 'catalogue:get')) return;
    // A paced plain round listens for upload:slot on its selected clients' sockets (update-pool/upload-desk.ts).
    if (event === 'upload:slot' && socket.listeners('upload:slot').length > 0) return;
    logger.warn({ clientId, event }, 'unknown event');
    answerError(args, 'INVALID_PAYLOAD', `unknown event ${event}`, logger);
  });

  socket.emit('session:welcome', {
    clientId,
    protocolVersion: PROTOCOL_VERSION,
    coordinatorPublicKey: deps.keyPair.publicKey,
    fingerprint: fingerprint(deps.keyPair.publicKey),
    modelVersion: deps.modelVersion(),
    ...(deps.catalogueVersion?.() !== undefined ? { catalogueVersion: deps.catalogueVersion() } : {}),
  });
}

/** Answers an event's ack (its last argument, when it is a function) with an error code. */
function answerError(args: unknown[], code: 'UNAUTHORIZED' | 'INVALID_PAYLOAD', message: string, logger: Logger): void {
  const ack = args.at(-1);
  if (typeof ack !== 'function') return;
  try {
    (ack as (r: unknown) => void)({ ok: false, error: { code, message } });
  } catch (err) {
    logger.error(errorFields(err), 'ack failed');
  }
}
