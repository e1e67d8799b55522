import type { Server, Socket } from 'socket.io';
import type { ClientRuntime, ClientToServerEvents, ServerToClientEvents } from '@fedrec/protocol';

/** What the handshake middleware stores on each socket. */
export interface SocketData {
  clientId: string;
  /** The device's ed25519 key (hex) named in the handshake; proven by the signed challenge. */
  publicKey: string;
  /** Where limits and logs count it (see handshake.ts clientAddress). */
  address: string;
  connectedAt: number;
  /** The engine and tfjs backend the client announced in its handshake (optional there). */
  runtime?: ClientRuntime;
}

type InterServerEvents = Record<string, never>;

export type CoordinatorServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ClientSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
