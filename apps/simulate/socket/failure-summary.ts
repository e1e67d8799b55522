import type { RoundRecord } from '@fedrec/coordinator';

/** The failures of one round by code, each with its most common reason. */
export interface FailureGroup {
  code: string;
  count: number;
  /** The most frequent message under this code, and how many others there were. */
  reason: string;
  otherReasons: number;
}

/** Groups a round's failures by code (most frequent first), so a report says why devices failed, not just how many. */
export function summarizeFailures(failures: RoundRecord['failures']): FailureGroup[] {
  const byCode = new Map<string, Map<string, number>>();
  for (const f of failures) {
    const messages = byCode.get(f.code) ?? new Map<string, number>();
    messages.set(f.message, (messages.get(f.message) ?? 0) + 1);
    byCode.set(f.code, messages);
  }
  return [...byCode]
    .map(([code, messages]) => {
      const sorted = [...messages].sort((a, b) => b[1] - a[1]);
      return { code, count: sorted.reduce((n, [, c]) => n + c, 0), reason: sorted[0]![0], otherReasons: sorted.length - 1 };
    })
    .sort((a, b) => b.count - a.count);
}

/** "10 TRAINING_FAILED (too few liked items), 2 TIMEOUT (no answer before the deadline)". */
export function formatFailureGroups(groups: readonly FailureGroup[]): string {
  return groups
    .map((g) => `${g.count} ${g.code} (${g.reason}${g.otherReasons ? `; +${g.otherReasons} other message${g.otherReasons > 1 ? 's' : ''}` : ''})`)
    .join(', ');
}
