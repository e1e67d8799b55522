import express from 'express';
import type { Request, Response } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { RoundRecord } from './round-record.js';

/** Content type of /api/model: see framed-file.ts (u32 header length, JSON header, pad to 4, float32 LE body). */
export const MODEL_CONTENT_TYPE = 'application/vnd.fedrec.weights';

export interface RestDeps {
  status(): unknown;
  history(): readonly RoundRecord[];
  /** The current model as a framed file, and its version (the ETag). */
  modelFile(): { modelVersion: number; bytes: Uint8Array };
  metrics: Registry;
  corsOrigin: string | string[] | undefined;
  logger: Logger;
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
  app.get('/api/status', (_req, res) => {
    res.json(deps.status());
  });
  app.get('/api/rounds', (req, res) => {
    const limit = Number(req.query['limit']);
    const all = deps.history();
    res.json({ rounds: Number.isInteger(limit) && limit > 0 ? all.slice(-limit) : all });
  });
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
  app.get('/metrics', async (_req, res) => {
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
