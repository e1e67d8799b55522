// A small stand-in coordinator for client tests: real Socket.IO on loopback, protocol functions only.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import {
  decodeWeights,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeUpdatePayload,
  encodeWeights,
  fingerprint,
  generateKeyPair,
  handshakeSchema,
  open,
  sealedEnvelopeSchema,
  type Ack,
  type ClientToServerEvents,
  type ErrorCode,
  type FitReply,
  type FitTask,
  type KeyPair,
  type ModelSpec,
  type ServerToClientEvents,
  type TrainingConfig,
  type UpdatePayload,
  type Weights,
  DEFAULT_TRAINING_CONFIG,
} from '@fedrec/protocol';

export type CoordinatorSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface FakeCoordinatorOptions {
  port?: number;
  keys?: KeyPair;
  /** Refuse every handshake in the middleware with this code. */
  refuseWith?: ErrorCode;
  /** Protocol version the middleware insists on (default PROTOCOL_VERSION). */
  requireVersion?: number;
  /** Override fields of the welcome (to fake a lying or outdated coordinator). */
  welcome?: Record<string, unknown>;
  modelVersion?: number;
}

export interface FakeCoordinator {
  url: string;
  port: number;
  keys: KeyPair;
  fingerprint: string;
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  /** Handshakes seen by the middleware, accepted or not. */
  handshakes: Array<{ clientId: unknown; protocolVersion: unknown; token: unknown }>;
  /** Resolves with the next socket that got its welcome. */
  nextSocket(): Promise<CoordinatorSocket>;
  close(): Promise<void>;
}

export async function startFakeCoordinator(options: FakeCoordinatorOptions = {}): Promise<FakeCoordinator> {
  const keys = options.keys ?? generateKeyPair();
  const http: HttpServer = createServer();
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, { transports: ['websocket'] });
  const handshakes: FakeCoordinator['handshakes'] = [];
  const waiting: Array<(s: CoordinatorSocket) => void> = [];
  const ready: CoordinatorSocket[] = [];

  io.use((socket, next) => {
    const auth = socket.handshake.auth as Record<string, unknown>;
    handshakes.push({ clientId: auth['clientId'], protocolVersion: auth['protocolVersion'], token: auth['token'] });
    const refuse = (code: ErrorCode, message: string) => {
      const err = new Error(message) as Error & { data?: unknown };
      err.data = { code };
      next(err);
    };
    if (options.refuseWith) return refuse(options.refuseWith, `refused: ${options.refuseWith}`);
    const parsed = handshakeSchema.safeParse(auth);
    if (!parsed.success) return refuse('INVALID_PAYLOAD', 'bad handshake');
    const required = options.requireVersion ?? PROTOCOL_VERSION;
    if (parsed.data.protocolVersion !== required) {
      return refuse('PROTOCOL_VERSION_MISMATCH', `coordinator speaks ${required}, client ${parsed.data.protocolVersion}`);
    }
    socket.data = { clientId: parsed.data.clientId };
    next();
  });

  io.on('connection', (socket) => {
    const clientId = (socket.data as { clientId: string }).clientId;
    socket.emit('session:welcome', {
      clientId,
      protocolVersion: PROTOCOL_VERSION,
      coordinatorPublicKey: keys.publicKey,
      fingerprint: fingerprint(keys.publicKey),
      modelVersion: options.modelVersion ?? 0,
      ...options.welcome,
    } as never);
    const waiter = waiting.shift();
    if (waiter) waiter(socket);
    else ready.push(socket);
  });

  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    keys,
    fingerprint: fingerprint(keys.publicKey),
    io,
    handshakes,
    nextSocket: () => {
      const s = ready.shift();
      return s ? Promise.resolve(s) : new Promise((resolve) => waiting.push(resolve));
    },
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
      });
    },
  };
}

export function makeFitTask(args: {
  weights: Weights;
  modelSpec?: ModelSpec;
  roundId?: number;
  taskId?: string;
  modelVersion?: number;
  config?: Partial<TrainingConfig>;
}): FitTask {
  return {
    taskId: args.taskId ?? `task-${args.roundId ?? 1}`,
    roundId: args.roundId ?? 1,
    modelVersion: args.modelVersion ?? 0,
    deadline: Date.now() + 60_000,
    config: { ...DEFAULT_TRAINING_CONFIG, ...args.config },
    modelSpec: args.modelSpec ?? { name: 'test', options: {} },
    weights: encodeWeights(args.weights),
  };
}

/** Sends a fit task and returns the raw ack. */
export async function sendFit(socket: CoordinatorSocket, task: unknown, timeoutMs = 20_000): Promise<Ack<FitReply>> {
  return (await socket.timeout(timeoutMs).emitWithAck('round:fit', task as FitTask)) as Ack<FitReply>;
}

/** Opens a fit reply's envelope the way a coordinator would, for this task and client. */
export async function openFitReply(reply: Ack<FitReply>, task: FitTask, clientId: string, secretKey: Uint8Array): Promise<UpdatePayload> {
  if (!reply.ok) throw new ProtocolError(reply.error.code, reply.error.message);
  const envelope = sealedEnvelopeSchema.parse(reply.value.envelope);
  const plaintext = await open(envelope, { roundId: task.roundId, clientId, taskId: task.taskId, modelVersion: task.modelVersion }, secretKey);
  // Against the task's manifest: devices pad their updates to the run's size bucket, which the manifest fixes.
  return decodeUpdatePayload(plaintext, task.weights ? decodeWeights(task.weights).manifest : undefined);
}
