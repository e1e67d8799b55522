import { pack, packedSchema } from '@fedrec/protocol/packed.js';
import { secAggFitTaskSchema } from '@fedrec/protocol';
import { forwardedSharesSchema, rosterSchema, unmaskRequestSchema } from '@fedrec/protocol/secagg-messages.js';
import { SecAggParticipant } from './secagg-participant.js';
import type { SecAggParticipantHost } from './secagg-participant-host.js';
import { taskRoute, type TaskStages } from './task-route.js';

/**
 * Secure aggregation plugged into the task runner: a SecAggParticipant hosted by the runner and its
 * four stages as routes. Stage messages travel packed and answers go back packed.
 */
export function secAggStages(host: SecAggParticipantHost): TaskStages {
  const participant = new SecAggParticipant(host);
  return {
    routes: [
      taskRoute('secagg:advertise', secAggFitTaskSchema, async (task) => pack(await participant.advertise(task))),
      taskRoute('secagg:roster', packedSchema(rosterSchema), async (roster) => pack(await participant.shareKeys(roster))),
      taskRoute('secagg:forward', packedSchema(forwardedSharesSchema), async (forwarded) => pack(await participant.maskedInput(forwarded))),
      taskRoute('secagg:unmask', packedSchema(unmaskRequestSchema), async (request) => pack(await participant.unmask(request))),
    ],
    roundEnded: (roundId) => participant.roundEnded(roundId),
  };
}
