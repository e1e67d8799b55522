import { ProtocolError } from '@fedrec/protocol';

/** Caps the metric names a client may send per message: each one would live in history and checkpoints forever. */
export function checkMetricKeys(metrics: Record<string, number>, max: number | undefined): void {
  if (max === undefined) return;
  const count = Object.keys(metrics).length;
  if (count > max) throw new ProtocolError('TOO_LARGE', `${count} metric names, limit ${max}`);
}
