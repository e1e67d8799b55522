import type { Logger } from '../logger.js';
import type { ClientSocket } from '../socket-types.js';
import { uploadSlotListener } from '../update-pool/upload-slot-listener.js';
import type { UploadSlots } from '../update-pool/upload-slots.js';

/**
 * Buffered mode's side of upload pacing (protocol/upload-slot.ts), for one fit task: answers that task's
 * `upload:slot` on its device's socket with the same checks as a sync round's (upload-slot-listener.ts).
 * Slots are keyed by task id: a device trains many tasks in one buffer, each asks once. Returns the function
 * that stops listening (when the task is over).
 */
export function listenForUploadSlot(
  task: { clientId: string; taskId: string; roundId: number; socket: ClientSocket },
  slots: UploadSlots,
  limits: { maxUpdateBytes: number; holdMs: number },
  logger: Logger,
): () => void {
  const listener = uploadSlotListener({ roundId: task.roundId, taskId: task.taskId, slotKey: task.taskId }, slots, limits, logger);
  task.socket.on('upload:slot', listener);
  return () => void task.socket.off('upload:slot', listener);
}
