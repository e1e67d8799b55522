import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic-file.js';
import type { AccountantState } from './rdp-accountant.js';

/** The accountant's state, and the adaptive clip norm when the clip adapts (it is part of what the rounds spent). */
export type LedgerState = AccountantState & { clipNorm?: number };

/** The file beside the checkpoints that holds the spent privacy budget. */
export const PRIVACY_LEDGER_FILE = 'privacy-ledger.json';

/**
 * The accountant's state on disk, written (fsynced, atomically) after each released round and before its
 * sum is used, so a restart never resets the spent budget. Its own file rather than a checkpoint field:
 * a round can spend budget without committing a model (an abandoned round whose sum was released).
 * A ledger that cannot be read stops the coordinator at start: silently starting from zero would
 * report a smaller epsilon than was spent.
 */
export class PrivacyLedger {
  constructor(private readonly path: string | undefined) {}

  async load(): Promise<LedgerState | undefined> {
    if (!this.path) return undefined;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<LedgerState>;
    if (!Array.isArray(parsed.orders) || !Array.isArray(parsed.rdp) || typeof parsed.steps !== 'number') {
      throw new Error(`privacy ledger ${this.path} is malformed; refusing to start with an unknown spent budget`);
    }
    if (parsed.clipNorm !== undefined && !(typeof parsed.clipNorm === 'number' && parsed.clipNorm > 0 && Number.isFinite(parsed.clipNorm))) {
      throw new Error(`privacy ledger ${this.path} has a malformed clipNorm; refusing to start`);
    }
    return { orders: parsed.orders, rdp: parsed.rdp, steps: parsed.steps, ...(parsed.clipNorm !== undefined ? { clipNorm: parsed.clipNorm } : {}) };
  }

  async save(state: LedgerState): Promise<void> {
    if (this.path) await writeFileAtomic(this.path, JSON.stringify(state));
  }
}
