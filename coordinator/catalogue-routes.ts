import express, { Router } from 'express';
import type { NextFunction, Request, Response } from 'express';
import { ProtocolError, catalogueAddRequestSchema, type CatalogueAddResult, type CatalogueSnapshot, type ErrorCode } from '@fedrec/protocol';
import { z } from 'zod';
import type { WriteGuard } from './operator-access.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import { notModified } from './rest.js';

export interface CatalogueRouteDeps {
  snapshot(since?: number): CatalogueSnapshot;
  add(items: z.output<typeof catalogueAddRequestSchema>['items']): Promise<CatalogueAddResult>;
  guard: WriteGuard;
  logger: Logger;
}

/** Largest POST body: 10 000 items with ids, tags and titles fit well within it. */
const MAX_BODY = '8mb';

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_PAYLOAD: 400,
  UNAUTHORIZED: 401,
  DUPLICATE_ITEM: 409,
  CATALOGUE_CLOSED: 409,
  TOO_LARGE: 413,
};

function refuse(res: Response, code: ErrorCode, message: string): void {
  res.status(STATUS[code] ?? 500).json({ error: { code, message } });
}

export function catalogueEtag(s: Pick<CatalogueSnapshot, 'catalogueVersion' | 'popularityModelVersion'>): string {
  return `"catalogue-v${s.catalogueVersion}-m${s.popularityModelVersion}"`;
}

/**
 * GET /api/catalogue[?since=v] (ETag: catalogue and popularity versions) and POST /api/catalogue/items
 * ({ items: [...] }, guarded; refusals answer { error: { code, message } } and change nothing).
 */
export function catalogueRoutes(deps: CatalogueRouteDeps): Router {
  const router = Router();
  router.get('/api/catalogue', (req, res) => {
    const raw = req.query['since'];
    let since: number | undefined;
    if (raw !== undefined) {
      since = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(since)) return refuse(res, 'INVALID_PAYLOAD', 'since must be a catalogue version (a whole number >= 0)');
    }
    const snapshot = deps.snapshot(since);
    const etag = catalogueEtag(snapshot);
    res.set('ETag', etag);
    res.set('X-Fedrec-Catalogue-Version', String(snapshot.catalogueVersion));
    res.set('Cache-Control', 'no-cache');
    if (notModified(req, etag)) {
      res.status(304).end();
      return;
    }
    res.json(snapshot);
  });
  router.post('/api/catalogue/items', (req, res, next) => {
    try {
      deps.guard(req);
    } catch (err) {
      const code = err instanceof ProtocolError ? err.code : 'UNAUTHORIZED';
      deps.logger.warn({ address: req.socket.remoteAddress, code }, 'catalogue write refused');
      return refuse(res, code, err instanceof Error ? err.message : 'refused');
    }
    next();
  });
  router.post('/api/catalogue/items', express.json({ limit: MAX_BODY, strict: true }), (req, res, next) => {
    const parsed = catalogueAddRequestSchema.safeParse(req.body);
    if (!parsed.success) return refuse(res, 'INVALID_PAYLOAD', z.prettifyError(parsed.error));
    deps.add(parsed.data.items).then(
      (result) => res.status(201).json(result),
      (err: unknown) => {
        if (err instanceof ProtocolError) return refuse(res, err.code, err.message);
        next(err);
      },
    );
  });
  // Body-parser refusals (too large, not JSON) get codes too.
  router.use('/api/catalogue', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (err as { type?: unknown }).type;
    if (type === 'entity.too.large') return refuse(res, 'TOO_LARGE', `catalogue request over ${MAX_BODY}`);
    if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported')
      return refuse(res, 'INVALID_PAYLOAD', 'body must be JSON');
    deps.logger.error(errorFields(err), 'catalogue route failed');
    next(err);
  });
  return router;
}
