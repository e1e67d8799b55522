import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { Server } from 'socket.io';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { CoordinatorServer } from './socket-types.js';

export interface ServerOptions {
  port: number;
  host: string;
  maxUpdateBytes: number;
  corsOrigin?: string | string[] | undefined;
  /** PEM certificate (chain) and key: serve https + wss instead of plain http. */
  tls?: { cert: string; key: string; ca?: string | undefined } | undefined;
  pingIntervalMs?: number | undefined;
  pingTimeoutMs?: number | undefined;
  logger: Logger;
}

/** The HTTP server and Socket.IO on one port: created first (extensions attach to `io`), listening later. */
export interface CoordinatorHttpServer {
  readonly io: CoordinatorServer;
  /** Starts listening; resolves with the bound port and a URL clients can dial (0.0.0.0 and :: become loopback). */
  listen(): Promise<{ port: number; url: string }>;
  /** Disconnects every client and closes the server. */
  close(): Promise<void>;
}

export function createCoordinatorServer(app: RequestListener, o: ServerOptions): CoordinatorHttpServer {
  // One server either way: REST, the dashboard and Socket.IO (wss) share the TLS listener.
  const http = o.tls ? createTlsServer({ cert: o.tls.cert, key: o.tls.key, ...(o.tls.ca !== undefined ? { ca: o.tls.ca } : {}) }, app) : createServer(app);
  const io: CoordinatorServer = new Server(http, {
    serveClient: false,
    // An update is one ack packet: let it through up to the limit (plus room for framing) so TOO_LARGE can be reported.
    maxHttpBufferSize: o.maxUpdateBytes + 1024 * 1024,
    // Explicit, though it is engine.io 6's default: per-message deflate would cost a zlib context (tens of
    // KB) per connected client and CPU on every sealed (incompressible) update.
    perMessageDeflate: false,
    ...(o.corsOrigin !== undefined ? { cors: { origin: o.corsOrigin } } : {}),
    ...(o.pingIntervalMs !== undefined ? { pingInterval: o.pingIntervalMs } : {}),
    ...(o.pingTimeoutMs !== undefined ? { pingTimeout: o.pingTimeoutMs } : {}),
  });
  return {
    io,
    async listen() {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(o.port, o.host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      http.on('error', (err) => o.logger.error(errorFields(err), 'http server error'));
      const address = http.address();
      const port = typeof address === 'object' && address ? address.port : o.port;
      const host = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
      return { port, url: `${o.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}` };
    },
    async close() {
      // io.close() also closes the HTTP server; open keep-alive connections would hold it up.
      const closed = io.close();
      http.closeAllConnections();
      await closed.catch(() => {});
    },
  };
}
