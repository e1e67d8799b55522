import { ProtocolError, uploadSlotGrantSchema, type Ack, type UploadSlotGrant } from '@fedrec/protocol';
import type { ClientSocket } from './connection.js';

/** The least the device waits for a grant, even when the task's deadline (the coordinator's clock) looks past already. */
const MIN_SLOT_WAIT_MS = 5_000;

/**
 * Upload pacing, the device's side (protocol/upload-slot.ts): asks `upload:slot` for a sealed update of
 * `bytes` and resolves once the coordinator grants one. The wait counts against the round's deadline (the
 * coordinator grants in arrival order as it gets through the updates ahead); past it, the coordinator
 * refuses the request (ROUND_CLOSED) or, if the answer is lost, the device stops waiting (TIMEOUT comes back
 * as ROUND_CLOSED). A refusal throws the coordinator's ProtocolError.
 */
export async function askUploadSlot(
  socket: ClientSocket | undefined,
  request: { roundId: number; taskId: string; bytes: number; deadline: number },
  now: () => number = Date.now,
): Promise<UploadSlotGrant> {
  if (!socket?.connected) throw new ProtocolError('ROUND_CLOSED', 'not connected: no upload slot to ask for');
  const waitMs = Math.max(MIN_SLOT_WAIT_MS, request.deadline - now());
  let reply: Ack<unknown>;
  try {
    reply = (await socket
      .timeout(waitMs)
      .emitWithAck('upload:slot', { roundId: request.roundId, taskId: request.taskId, bytes: request.bytes })) as Ack<unknown>;
  } catch {
    throw new ProtocolError('ROUND_CLOSED', `no upload slot granted within ${waitMs} ms`);
  }
  if (!reply || typeof reply !== 'object') throw new ProtocolError('INVALID_PAYLOAD', 'malformed upload:slot answer');
  if (!reply.ok) throw new ProtocolError(reply.error.code, `upload slot refused: ${reply.error.message}`);
  const grant = uploadSlotGrantSchema.safeParse(reply.value);
  if (!grant.success) throw new ProtocolError('INVALID_PAYLOAD', 'malformed upload:slot grant');
  return grant.data;
}
