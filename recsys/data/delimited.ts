import { buildDataset, type RawInteraction } from './build.js';
import type { InteractionDataset } from './types.js';

/** Where each field sits in a row (0-based); rating and timestamp are optional. */
export interface ColumnMap {
  user: number;
  item: number;
  rating?: number;
  timestamp?: number;
}

export interface DelimitedOptions {
  /** Field separator; detected from the first lines when absent. */
  delimiter?: string;
  /** Whether the first data line is a header; detected when absent. */
  header?: boolean;
  /** Column positions; taken from the header names or positional (user, item, rating, timestamp) when absent. */
  columns?: ColumnMap;
  /** Treat rows without a rating/timestamp as malformed (MovieLens). */
  requireRating?: boolean;
  requireTimestamp?: boolean;
}

const CANDIDATE_DELIMITERS = ['::', '\t', ',', ';', '|', ' '];
const NAME_PATTERNS: Array<[keyof ColumnMap, RegExp]> = [
  ['user', /^(user|userid|user_id|uid|customer|visitor)/i],
  ['item', /^(item|itemid|item_id|iid|movie|movieid|movie_id|product|sku|article)/i],
  ['rating', /^(rating|score|value|weight|stars)/i],
  ['timestamp', /^(timestamp|time|ts|date|datetime|when)/i],
];

function split(line: string, delimiter: string): string[] {
  return (delimiter === ' ' ? line.trim().split(/\s+/) : line.split(delimiter)).map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

/** The delimiter that splits the sample lines into the same number (>= 2) of fields most often. */
export function detectDelimiter(sample: string[]): string {
  let best = '\t';
  let bestScore = -1;
  for (const d of CANDIDATE_DELIMITERS) {
    const frequency = new Map<number, number>();
    for (const line of sample) {
      const width = split(line, d).length;
      frequency.set(width, (frequency.get(width) ?? 0) + 1);
    }
    // Most common field count of at least 2, and how many lines have it.
    let score = 0;
    for (const [width, count] of frequency) if (width >= 2 && count > score) score = count;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

const isNumber = (s: string) => s !== '' && Number.isFinite(Number(s));

/** A first line is a header when its fields are all non-numeric and look like names or sit above numbers. */
export function detectHeader(first: string[], second: string[] | undefined): boolean {
  if (first.some(isNumber)) return false;
  if (first.some((f) => NAME_PATTERNS.some(([, re]) => re.test(f)))) return true;
  return !!second && second.some(isNumber);
}

function columnsFromHeader(names: string[]): ColumnMap {
  const found: Partial<ColumnMap> = {};
  for (const [key, re] of NAME_PATTERNS) {
    const at = names.findIndex((n) => re.test(n));
    if (at >= 0 && found[key] === undefined) found[key] = at;
  }
  return { ...found, user: found.user ?? 0, item: found.item ?? 1 };
}

function positionalColumns(width: number): ColumnMap {
  const cols: ColumnMap = { user: 0, item: 1 };
  if (width > 2) cols.rating = 2;
  if (width > 3) cols.timestamp = 3;
  return cols;
}

function parseTime(s: string): number {
  if (isNumber(s)) return Number(s);
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

/**
 * Parses delimited interaction text (CSV, TSV, MovieLens): skips blank and `#` lines, detects
 * delimiter and header, counts malformed rows, drops duplicate pairs and re-indexes ids.
 * A row without a timestamp gets its line order, so "latest" still means "last seen".
 */
export function parseDelimitedInteractions(text: string, options: DelimitedOptions = {}): InteractionDataset {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const delimiter = options.delimiter ?? detectDelimiter(lines.slice(0, 20));
  const first = lines[0] === undefined ? [] : split(lines[0], delimiter);
  const second = lines[1] === undefined ? undefined : split(lines[1], delimiter);
  const header = options.header ?? detectHeader(first, second);
  const data = header ? lines.slice(1) : lines;
  const cols = options.columns ?? (header ? columnsFromHeader(first) : positionalColumns(second?.length ?? first.length));
  const rows: RawInteraction[] = [];
  let malformed = 0;
  let lineOrder = 0;
  data.forEach((line, index) => {
    const f = split(line, delimiter);
    const user = f[cols.user];
    const item = f[cols.item];
    const ratingField = cols.rating === undefined ? undefined : f[cols.rating];
    const timeField = cols.timestamp === undefined ? undefined : f[cols.timestamp];
    const rating = ratingField === undefined || ratingField === '' ? (options.requireRating ? NaN : 1) : Number(ratingField);
    const timestamp = timeField === undefined || timeField === '' ? (options.requireTimestamp ? NaN : index) : parseTime(timeField);
    if (!user || !item || !Number.isFinite(rating) || !Number.isFinite(timestamp)) {
      malformed++;
      return;
    }
    if (timeField === undefined || timeField === '') lineOrder++;
    rows.push({ user, item, rating, timestamp });
  });
  const dataset = buildDataset(rows, { lines: data.length, malformed });
  // Any row timed by its line makes "latest" partly "last line": the holdout summary says so.
  dataset.timestampSource = lineOrder > 0 ? 'line-order' : 'column';
  return dataset;
}
