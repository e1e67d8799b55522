import express from 'express';
import { ProtocolError } from '@fedrec/protocol';
import type { Request, Response } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { CoordinatorStatus } from './coordinator-status.js';
import { renameRecord } from './operator-access.js';
import type { OperatorAccess } from './operator-access.js';
import type { RoundRecord } from './round-record.js';
import { SelectionNames } from './status-cache.js';

/** Content type of /api/model: see framed-file.ts (u32 header length, JSON header, pad to 4, float32 LE body). */
export const MODEL_CONTENT_TYPE = 'application/vnd.fedrec.weights';

export interface RestDeps {
  status(): CoordinatorStatus;
  history(): readonly RoundRecord[];
  /** The current model as a framed file, and its version (the ETag). */
  modelFile(): { modelVersion: number; bytes: Uint8Array };
  metrics: Registry;
  corsOrigin: string | string[] | undefined;
  /** Who sees client ids: /api/rounds and /metrics need the operator credential when one is configured. */
  operator: OperatorAccess;
  logger: Logger;
  /**
   * Operator rollback (POST /api/rollback {"toVersion"?: n}): serves an earlier version's weights under a
   * new version. Write access: refused unless the operator's write check passes (OperatorAccess.writeGuard).
   */
  rollback?(toVersion: number | undefined): Promise<{ modelVersion: number; from: number }>;
  /** Extension routes, tried before the 404. */
  extraRoutes?: express.Router;
  /** The catalogue's GET and POST routes (catalogue-routes.ts). */
  catalogueRoutes?: express.Router;
}

export function modelEtag(modelVersion: number): string {
  return `"model-v${modelVersion}"`;
}

/** True when If-None-Match names this ETag (weak or strong) or is "*". */
export function notModified(req: Request, etag: string): boolean {
  const header = req.get('if-none-match');
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/** Read-only HTTP API, served on the same port as Socket.IO. */
export function createRestApp(deps: RestDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (deps.corsOrigin !== undefined) {
    const allowed = Array.isArray(deps.corsOrigin) ? deps.corsOrigin : [deps.corsOrigin];
    app.use((req, res, next) => {
      const origin = req.get('origin');
      if (origin && (allowed.includes('*') || allowed.includes(origin))) res.set('Access-Control-Allow-Origin', allowed.includes('*') ? '*' : origin);
      next();
    });
  }

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  // Public: no client ids beyond pseudonyms (the current round's selection).
  const selectionNames = new SelectionNames();
  app.get('/api/status', (req, res) => {
    const carrier = { headers: req.headers };
    res.type('json').send(selectionNames.json(deps.status(), deps.operator.isOperator(carrier), deps.operator.namer(carrier)));
  });
  app.get('/api/rounds', deps.operator.requireHttp, (req, res) => {
    const limit = Number(req.query['limit']);
    const all = deps.history();
    const name = deps.operator.namer(req);
    res.json({ rounds: (Number.isInteger(limit) && limit > 0 ? all.slice(-limit) : all).map((r) => renameRecord(r, name)) });
  });
  // Public by decision: the weights are what every client receives anyway, and they list no client.
  app.get('/api/model', (req, res) => {
    const { modelVersion, bytes } = deps.modelFile();
    const etag = modelEtag(modelVersion);
    res.set('ETag', etag);
    res.set('X-Fedrec-Model-Version', String(modelVersion));
    res.set('Cache-Control', 'no-cache');
    if (notModified(req, etag)) {
      res.status(304).end();
      return;
    }
    res.type(MODEL_CONTENT_TYPE).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
  app.post('/api/rollback', express.json({ limit: '1kb' }), async (req, res) => {
    try {
      if (!deps.rollback) throw new ProtocolError('UNAUTHORIZED', 'rollbacks are not available here');
      deps.operator.writeGuard(req);
    } catch (err) {
      res.status(401).json({ error: err instanceof Error ? err.message : String(err), code: 'UNAUTHORIZED' });
      return;
    }
    const body: unknown = req.body ?? {};
    const toVersion = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['toVersion'] : undefined;
    if (toVersion !== undefined && !(Number.isInteger(toVersion) && (toVersion as number) >= 0)) {
      res.status(400).json({ error: 'toVersion must be a non-negative integer' });
      return;
    }
    try {
      res.json(await deps.rollback!(toVersion as number | undefined));
    } catch (err) {
      res.status(409).json({ error: err instanceof Error ? err.message : String(err) });
    }
  });
  app.get('/metrics', deps.operator.requireHttp, async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });
  if (deps.catalogueRoutes) app.use(deps.catalogueRoutes);
  if (deps.extraRoutes) app.use(deps.extraRoutes);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    deps.logger.error(errorFields(err), 'REST handler failed');
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}
