import { ProtocolError, uploadSlotRequestSchema, type UploadSlotGrant } from '@fedrec/protocol';
import type { Logger } from '../logger.js';
import { socketHandler } from '../socket-handler.js';
import type { UploadSlots } from './upload-slots.js';

/**
 * The `upload:slot` handler for one task on its device's socket (protocol/upload-slot.ts), shared by sync
 * rounds (upload-desk.ts) and buffered mode (buffered/upload-pacing.ts): the request must name this task and
 * round (WRONG_ROUND) and a size within maxUpdateBytes (TOO_LARGE); then it waits for UploadSlots to grant the
 * slot under `slotKey` (UPLOAD_SLOT_DUPLICATE for a second request) and answers with the hold time.
 */
export function uploadSlotListener(
  task: { roundId: number; taskId: string; slotKey: string },
  slots: UploadSlots,
  limits: { maxUpdateBytes: number; holdMs: number },
  logger: Logger,
): (...args: unknown[]) => void {
  return socketHandler('upload:slot', uploadSlotRequestSchema, logger, async (request): Promise<UploadSlotGrant> => {
    if (request.roundId !== task.roundId) throw new ProtocolError('WRONG_ROUND', `upload slot for round ${request.roundId}, current round is ${task.roundId}`);
    if (request.taskId !== task.taskId) throw new ProtocolError('WRONG_ROUND', `task ${request.taskId} is not this client's task in round ${task.roundId}`);
    if (request.bytes > limits.maxUpdateBytes)
      throw new ProtocolError('TOO_LARGE', `an update of ${request.bytes} bytes exceeds the coordinator's limit of ${limits.maxUpdateBytes}`);
    await slots.request(task.slotKey, request.bytes);
    return { holdMs: limits.holdMs };
  });
}
