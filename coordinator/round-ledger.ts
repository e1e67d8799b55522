import { ProtocolError } from '@fedrec/protocol';

/**
 * Who may submit what in one round: each selected client exactly one result for its own task,
 * while the round is open. Checked before a result goes anywhere near the accumulator.
 */
export class RoundLedger {
  private readonly taskOf = new Map<string, string>();
  private readonly submitted = new Set<string>();
  private closed = false;

  constructor(
    readonly roundId: number,
    assignments: ReadonlyArray<{ clientId: string; taskId: string }>,
  ) {
    for (const a of assignments) this.taskOf.set(a.clientId, a.taskId);
  }

  /** Records a submission; throws the ProtocolError that explains why it may not count. */
  claim(roundId: number, taskId: string, clientId: string): void {
    if (roundId !== this.roundId) throw new ProtocolError('WRONG_ROUND', `result for round ${roundId}, current round is ${this.roundId}`);
    if (this.closed) throw new ProtocolError('ROUND_CLOSED', `round ${roundId} is closed`);
    const expected = this.taskOf.get(clientId);
    if (expected === undefined) throw new ProtocolError('NOT_SELECTED', `client ${clientId} was not selected for round ${roundId}`);
    if (expected !== taskId) throw new ProtocolError('WRONG_ROUND', `task ${taskId} is not this client's task in round ${roundId}`);
    if (this.submitted.has(clientId)) throw new ProtocolError('DUPLICATE_UPDATE', `client ${clientId} already submitted for round ${roundId}`);
    this.submitted.add(clientId);
  }

  close(): void {
    this.closed = true;
  }
}
