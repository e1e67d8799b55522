/** What a loader reports about the lines it read. */
export interface LoadSummary {
  /** Non-blank data lines read (header and comments excluded). */
  lines: number;
  /** Interactions kept after cleaning. */
  kept: number;
  /** Lines skipped because a field was missing or unparseable. */
  malformed: number;
  /** Repeated (user, item) pairs dropped (the latest one is kept). */
  duplicates: number;
  users: number;
  items: number;
}

/** Cleaned implicit-feedback interactions, columnar, with dense ids 0..n-1. */
export interface InteractionDataset {
  users: Int32Array;
  items: Int32Array;
  /** The explicit rating when the source had one (else 1); every row counts as an interaction. */
  ratings: Float32Array;
  timestamps: Float64Array;
  numUsers: number;
  numItems: number;
  /** Dense user id -> the id in the source. */
  userIds: string[];
  /** Dense item id -> the id in the source. */
  itemIds: string[];
  summary: LoadSummary;
  /**
   * Where `timestamps` came from: the file's own column, or each row's line order because the file
   * had none (then "latest" means "last line", see recsys/holdout.ts). Absent = the source's own times.
   */
  timestampSource?: 'column' | 'line-order';
}

export function formatLoadSummary(s: LoadSummary): string {
  return `${s.kept} interactions kept from ${s.lines} lines (${s.malformed} malformed, ${s.duplicates} duplicates skipped); ${s.users} users, ${s.items} items`;
}
