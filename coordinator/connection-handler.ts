import { z } from 'zod';
import { PROTOCOL_VERSION, fingerprint } from '@fedrec/protocol';
import type { KeyPair, ModelSnapshot } from '@fedrec/protocol';
import type { ClientRegistry } from './client-registry.js';
import type { EmitCoordinatorEvent } from './events.js';
import { handshakeMiddleware } from './handshake.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { CoordinatorMetrics } from './metrics.js';
import { socketHandler } from './socket-handler.js';
import type { ClientSocket, CoordinatorServer } from './socket-types.js';

export interface ConnectionDeps {
  authToken: string | undefined;
  registry: ClientRegistry;
  metrics: Pick<CoordinatorMetrics, 'connectedClients'>;
  keyPair: KeyPair;
  emit: EmitCoordinatorEvent;
  /** The model version a new client is welcomed with. */
  modelVersion(): number;
  /** Answers `model:get`. */
  snapshot(): ModelSnapshot;
  logger: Logger;
}

/**
 * Everything between a socket and the round engine: the handshake, then per connection the registry
 * (newest connection of a client id wins), the `model:get` handler, an answer to unknown events,
 * and the welcome that carries the coordinator's public key.
 */
export function handleConnections(io: CoordinatorServer, deps: ConnectionDeps): void {
  io.use(handshakeMiddleware(deps.authToken, deps.logger));
  io.on('connection', (socket) => onConnection(socket, deps));
}

function onConnection(socket: ClientSocket, deps: ConnectionDeps): void {
  const { registry, metrics, logger } = deps;
  const { clientId } = socket.data;
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
    socketHandler('model:get', z.undefined(), logger, () => deps.snapshot()),
  );
  // Unknown events with an ack get an answer instead of silence.
  socket.onAny((event: string, ...args: unknown[]) => {
    if (event === 'model:get') return;
    const ack = args.at(-1);
    logger.warn({ clientId, event }, 'unknown event');
    if (typeof ack === 'function') {
      try {
        (ack as (r: unknown) => void)({ ok: false, error: { code: 'INVALID_PAYLOAD', message: `unknown event ${event}` } });
      } catch (err) {
        logger.error(errorFields(err), 'ack failed');
      }
    }
  });

  socket.emit('session:welcome', {
    clientId,
    protocolVersion: PROTOCOL_VERSION,
    coordinatorPublicKey: deps.keyPair.publicKey,
    fingerprint: fingerprint(deps.keyPair.publicKey),
    modelVersion: deps.modelVersion(),
  });
}
