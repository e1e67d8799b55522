import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { ProtocolError } from '@fedrec/protocol';

/** Who may change the catalogue. One function, so an operator credential can replace the token later. */
export type CatalogueWriteGuard = (req: Request) => void;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * For now the coordinator's auth token guards catalogue writes (`Authorization: Bearer <token>`,
 * compared in constant time). Without a token only callers on this machine (loopback) may write,
 * so a development coordinator is not an open door.
 */
export function tokenWriteGuard(authToken: string | undefined): CatalogueWriteGuard {
  return (req) => {
    if (authToken === undefined) {
      if (!LOOPBACK.has(req.socket.remoteAddress ?? ''))
        throw new ProtocolError('UNAUTHORIZED', 'catalogue writes need the coordinator to run with an auth token (or a loopback caller)');
      return;
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), digest(authToken))) throw new ProtocolError('UNAUTHORIZED', 'missing or wrong bearer token');
  };
}
