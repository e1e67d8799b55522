import { z } from 'zod';

/**
 * Upload pacing. A plain fit task that says `uploadSlot: true` asks the device to seal its update, then ask
 * `upload:slot` with the sealed size, and answer the task only once the coordinator grants a slot. The
 * coordinator grants slots in arrival order while the granted sizes fit its upload budget, so the bytes
 * of updates in transit or being opened stay bounded however many devices finish at once (an update is
 * read off the socket whole before anyone can look at it: bounding after arrival is too late). A secure-
 * aggregation fit task that says it does the same for the masked input: the device asks with the masked
 * vector's size before answering `secagg:forward` with it.
 */
export const uploadSlotTaskField = {
  /** Set by a pacing coordinator: ask `upload:slot` before answering with the update (absent = answer at once). */
  uploadSlot: z.literal(true).optional(),
};

/** `upload:slot`: which task's update, and its sealed size (ciphertext bytes, the size the coordinator will check). */
export const uploadSlotRequestSchema = z.object({
  roundId: z.number().int().min(0),
  taskId: z.string().min(1).max(128),
  bytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});
export type UploadSlotRequest = z.input<typeof uploadSlotRequestSchema>;

/** The grant: send the update within `holdMs`, or the slot goes to the next device and the upload is refused (UPLOAD_SLOT_REQUIRED). */
export const uploadSlotGrantSchema = z.object({ holdMs: z.number().int().min(1) });
export type UploadSlotGrant = z.input<typeof uploadSlotGrantSchema>;
