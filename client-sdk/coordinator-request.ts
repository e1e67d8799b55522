import { FederatedClientError, errorMessage, isErrorCode } from './errors.js';

/**
 * One request to the coordinator over its socket (`send` emits it with an ack and a timeout) and
 * its `{ ok, value | error }` answer: the value, or a FederatedClientError with the coordinator's
 * code (INTERNAL when there was no answer or the answer is malformed). The value is still unchecked.
 */
export async function requestFromCoordinator(event: string, send: () => Promise<unknown>): Promise<unknown> {
  let reply: unknown;
  try {
    reply = await send();
  } catch (err) {
    throw new FederatedClientError('INTERNAL', `${event} got no answer: ${errorMessage(err)}`, { cause: err });
  }
  const ack = reply as { ok?: unknown; value?: unknown; error?: { code?: unknown; message?: unknown } };
  if (ack?.ok !== true) {
    const code = isErrorCode(ack?.error?.code) ? ack.error.code : 'INTERNAL';
    throw new FederatedClientError(code, `${event} refused: ${String(ack?.error?.message ?? 'malformed reply')}`);
  }
  return ack.value;
}
