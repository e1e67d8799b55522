import { ProtocolError, uploadSlotRequestSchema, type UploadSlotGrant } from '@fedrec/protocol';
import type { Logger } from '../logger.js';
import { socketHandler } from '../socket-handler.js';
import type { ClientSocket } from '../socket-types.js';
import type { UploadSlots } from '../update-pool/upload-slots.js';

/**
 * Buffered mode's side of upload pacing (protocol/upload-slot.ts), for one fit task: answers that task's
 * `upload:slot` on its device's socket once the engine's UploadSlots grants, after the same checks as a sync
 * round's UploadDesk (its task and round, else WRONG_ROUND; no larger than maxUpdateBytes, else TOO_LARGE;
 * one request per task, else UPLOAD_SLOT_DUPLICATE). Slots are keyed by task id: a device trains many tasks
 * in one buffer, each asks once. Returns the function that stops listening (when the task is over).
 */
export function listenForUploadSlot(
  task: { clientId: string; taskId: string; roundId: number; socket: ClientSocket },
  slots: UploadSlots,
  limits: { maxUpdateBytes: number; holdMs: number },
  logger: Logger,
): () => void {
  const listener = socketHandler('upload:slot', uploadSlotRequestSchema, logger, async (request): Promise<UploadSlotGrant> => {
    if (request.roundId !== task.roundId || request.taskId !== task.taskId)
      throw new ProtocolError('WRONG_ROUND', `upload slot for task ${request.taskId} of round ${request.roundId}: this client's task is ${task.taskId}`);
    if (request.bytes > limits.maxUpdateBytes)
      throw new ProtocolError('TOO_LARGE', `an update of ${request.bytes} bytes exceeds the coordinator's limit of ${limits.maxUpdateBytes}`);
    await slots.request(task.taskId, request.bytes);
    return { holdMs: limits.holdMs };
  });
  task.socket.on('upload:slot', listener);
  return () => void task.socket.off('upload:slot', listener);
}
