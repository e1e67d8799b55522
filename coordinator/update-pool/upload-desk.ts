import type { FitAssignment, UpdateLimits } from '../fit-collector.js';
import type { Logger } from '../logger.js';
import { uploadSlotListener } from './upload-slot-listener.js';
import { UploadSlots } from './upload-slots.js';

/** Upload pacing settings (coordinator options uploadBudgetBytes, uploadSlotHoldMs). */
export interface UploadPacing {
  budgetBytes: number;
  holdMs: number;
}

/** Default budget: 64 MiB of sealed updates granted at once (16 updates of 1M float32 parameters, 160 of 100k). */
export const DEFAULT_UPLOAD_BUDGET_BYTES = 64 * 1024 * 1024;
/** Default hold: a granted device has 60 s to get its update across (a 4 MB update over a 1 Mbit/s uplink takes ~34 s). */
export const DEFAULT_UPLOAD_SLOT_HOLD_MS = 60_000;

/**
 * One round's side of upload pacing (protocol/upload-slot.ts), for plain rounds and for secure aggregation's
 * masked inputs (secagg-fit-collector.ts): listens for `upload:slot` on each
 * selected client's socket while the round collects, checks the request against that client's task and the
 * size limit, and answers once UploadSlots grants. The collector calls admit() when an update arrives
 * (refused without a live grant) and release() once it has a verdict; close() at the end of the round.
 */
export class UploadDesk {
  readonly slots: UploadSlots;
  private readonly listeners: Array<{ a: FitAssignment; listener: (...args: unknown[]) => void }> = [];

  constructor(
    private readonly round: { roundId: number; assignments: readonly FitAssignment[]; limits: Pick<UpdateLimits, 'maxUpdateBytes'>; logger: Logger },
    private readonly pacing: UploadPacing,
  ) {
    this.slots = new UploadSlots(pacing);
  }

  /** Starts listening on every selected client's socket (before the tasks go out). */
  open(): void {
    for (const a of this.round.assignments) this.listen(a);
  }

  /**
   * Starts listening on one client's socket, before its task goes out: a collector that sends its tasks in
   * slices (dispatch-phase.ts) registers each with its task, so a round of thousands does not register them
   * all in one turn of the event loop.
   */
  listen(a: FitAssignment): void {
    const { roundId, limits, logger } = this.round;
    const listener = uploadSlotListener(
      { roundId, taskId: a.taskId, slotKey: a.clientId },
      this.slots,
      { maxUpdateBytes: limits.maxUpdateBytes, holdMs: this.pacing.holdMs },
      logger,
    );
    a.socket.on('upload:slot', listener);
    this.listeners.push({ a, listener });
  }

  /**
   * An upload of `bytes` arrived (a sealed update's ciphertext, or a SecAgg masked input): it must come through a
   * live slot at least its size (UPLOAD_SLOT_REQUIRED, TOO_LARGE otherwise).
   */
  admit(clientId: string, bytes: number): void {
    this.slots.use(clientId, bytes);
  }

  /** The client's update has a verdict (or it failed): its slot goes to the next device. */
  release(clientId: string): void {
    this.slots.release(clientId);
  }

  /** The round stopped collecting: no more listeners, queued requests refused. */
  close(): void {
    for (const { a, listener } of this.listeners.splice(0)) a.socket.off('upload:slot', listener);
    this.slots.close();
  }
}
