import type { Request } from 'express';
import { tokenMatches } from './handshake.js';

/**
 * The one operator check for the coordinator's write routes (POST /api/rollback): an
 * `Authorization: Bearer <token>` header matching the configured authToken, compared in constant time.
 * Without a configured token nothing is authorized: a write route never opens by default.
 * (The operator-credential work replaces this function; callers stay as they are.)
 */
export function operatorAuthorized(req: Request, authToken: string | undefined): boolean {
  if (authToken === undefined) return false;
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match !== null && tokenMatches(match[1], authToken);
}
