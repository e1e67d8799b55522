// The dashboard's words for the coordinator's status: kept apart from the page so they can be tested in Node.
import type { CoordinatorStatus } from '@fedrec/coordinator/coordinator-status.js';
import type { RoundStarted } from '@fedrec/coordinator/events.js';
import { formatTime } from './format.js';

/** The phase as one truth: the coordinator's phase, with the round it belongs to while one runs. */
export function phaseText(s: CoordinatorStatus): string {
  const round = s.currentRound ? ` · round ${s.currentRound.roundId}` : '';
  return `${s.phase === 'idle' && s.modelVersion > 0 ? 'between rounds' : s.phase}${round}`;
}

/** Who the coordinator is waiting for now, in words. */
export function waitingText(s: CoordinatorStatus, current: RoundStarted | null): string {
  if (s.phase === 'waiting-for-clients') {
    const more = Math.max(0, s.minClients - s.connectedClients);
    return `${more} more client${more === 1 ? '' : 's'} (min-clients ${s.minClients}, ${s.connectedClients} connected)`;
  }
  if (current && (s.phase === 'fit' || s.phase === 'evaluate')) {
    return `${current.selected.length} selected client${current.selected.length === 1 ? '' : 's'} until ${formatTime(current.deadline)} (${s.minResults} result${s.minResults === 1 ? '' : 's'} needed)`;
  }
  return 'nobody';
}
