import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { manifestSchema, modelSpecSchema, sharedSize } from '@fedrec/protocol';
import type { ModelSpec, Weights } from '@fedrec/protocol';
import { TEMP_PREFIX, writeFileAtomic } from './atomic-file.js';
import { decodeFramed, encodeFramed } from './framed-file.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { RoundRecord } from './round-record.js';
import type { StrategyState } from './strategy/strategy.js';
import type { UpdatePolicyState } from './strategy/update-policy.js';
import { persistedCatalogueSchema, type PersistedCatalogue } from './catalogue.js';

/** What a checkpoint restores: the model, its version, the round counter, the history, and the aggregation state. */
export interface CheckpointState {
  modelVersion: number;
  nextRoundId: number;
  modelSpec: ModelSpec;
  weights: Weights;
  history: RoundRecord[];
  savedAt: number;
  /** The strategy's state (FedAvgM velocity, FedAdam moments), stored after the weights in the body. */
  strategyState?: StrategyState;
  /** The update policy's recent norms and weights (its adaptive bound). */
  policyState?: UpdatePolicyState;
  /** Set when this version carries the weights of an earlier one (a rollback). */
  rolledBackFrom?: number;
  /** The catalogue this model version belongs to (absent in checkpoints from before catalogues). */
  catalogue?: PersistedCatalogue;
}

const headerSchema = z.object({
  format: z.literal('fedrec-checkpoint'),
  formatVersion: z.literal(1),
  modelVersion: z.number().int().min(0),
  nextRoundId: z.number().int().min(0),
  modelSpec: modelSpecSchema,
  manifest: manifestSchema,
  history: z.array(z.custom<RoundRecord>((r) => typeof r === 'object' && r !== null)),
  savedAt: z.number(),
  bodySha256: z.string(),
  /** Strategy state tensors, in body order after the weights (absent in older checkpoints). */
  strategyState: z.array(z.object({ slot: z.string(), tensor: z.string(), length: z.number().int().min(0) })).optional(),
  policyState: z.object({ norms: z.array(z.number()), weights: z.array(z.number()), rowNorms: z.array(z.number()).optional() }).optional(),
  rolledBackFrom: z.number().int().min(0).optional(),
  catalogue: persistedCatalogueSchema.optional(),
});

const FILE_PATTERN = /^checkpoint-(\d+)\.fedrec$/;

export function checkpointFileName(modelVersion: number): string {
  return `checkpoint-${String(modelVersion).padStart(10, '0')}.fedrec`;
}

function sha256(body: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(body.buffer, body.byteOffset, body.byteLength))
    .digest('hex');
}

/** One file per committed model version, written atomically; the newest valid one wins on load. */
export class CheckpointStore {
  constructor(
    readonly dir: string,
    private readonly keep: number,
    private readonly logger: Logger,
  ) {}

  async save(state: CheckpointState): Promise<string> {
    const extras = Object.entries(state.strategyState ?? {}).flatMap(([slot, tensors]) =>
      Object.entries(tensors).map(([tensor, values]) => ({ slot, tensor, values })),
    );
    let body = state.weights.body;
    if (extras.length > 0) {
      body = new Float32Array(body.length + extras.reduce((n, e) => n + e.values.length, 0));
      body.set(state.weights.body);
      let at = state.weights.body.length;
      for (const e of extras) {
        body.set(e.values, at);
        at += e.values.length;
      }
    }
    const header = {
      format: 'fedrec-checkpoint',
      formatVersion: 1,
      modelVersion: state.modelVersion,
      nextRoundId: state.nextRoundId,
      modelSpec: state.modelSpec,
      manifest: state.weights.manifest,
      history: state.history,
      savedAt: state.savedAt,
      bodySha256: sha256(body),
      ...(extras.length > 0 ? { strategyState: extras.map(({ slot, tensor, values }) => ({ slot, tensor, length: values.length })) } : {}),
      ...(state.policyState ? { policyState: state.policyState } : {}),
      ...(state.rolledBackFrom !== undefined ? { rolledBackFrom: state.rolledBackFrom } : {}),
      ...(state.catalogue ? { catalogue: state.catalogue } : {}),
    };
    const path = join(this.dir, checkpointFileName(state.modelVersion));
    await writeFileAtomic(path, encodeFramed(header, body));
    await this.prune();
    return path;
  }

  /** The newest checkpoint that decodes and verifies; damaged ones are skipped with a warning. */
  async loadLatest(): Promise<CheckpointState | null> {
    for (const file of (await this.list()).reverse()) {
      try {
        return decodeCheckpoint(await readFile(join(this.dir, file)));
      } catch (err) {
        this.logger.warn({ file, ...errorFields(err) }, 'skipping unreadable checkpoint');
      }
    }
    return null;
  }

  /** The checkpoint of one version, or null when it is not kept (or does not verify). */
  async load(modelVersion: number): Promise<CheckpointState | null> {
    try {
      return decodeCheckpoint(await readFile(join(this.dir, checkpointFileName(modelVersion))));
    } catch {
      return null;
    }
  }

  /** Checkpoint file names, oldest first. */
  async list(): Promise<string[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = (await readdir(this.dir)).filter((n) => FILE_PATTERN.test(n));
    return names.sort((a, b) => versionOf(a) - versionOf(b));
  }

  /** Deletes temp files left by a crash mid-write. */
  async removeLeftovers(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(`${TEMP_PREFIX}checkpoint-`)) await rm(join(this.dir, name), { force: true });
    }
  }

  private async prune(): Promise<void> {
    const files = await this.list();
    for (const name of files.slice(0, Math.max(0, files.length - this.keep))) await rm(join(this.dir, name), { force: true });
  }
}

function versionOf(name: string): number {
  return Number(FILE_PATTERN.exec(name)?.[1] ?? -1);
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointState {
  const { header, body } = decodeFramed(bytes);
  const h = headerSchema.parse(header);
  const size = sharedSize(h.manifest);
  const extra = (h.strategyState ?? []).reduce((n, e) => n + e.length, 0);
  if (body.length !== size + extra) throw new RangeError(`checkpoint body has ${body.length} floats, manifest and strategy state want ${size + extra}`);
  if (sha256(body) !== h.bodySha256) throw new RangeError('checkpoint body checksum mismatch');
  let strategyState: StrategyState | undefined;
  let at = size;
  for (const e of h.strategyState ?? []) {
    strategyState ??= {};
    (strategyState[e.slot] ??= {})[e.tensor] = body.slice(at, at + e.length);
    at += e.length;
  }
  return {
    modelVersion: h.modelVersion,
    nextRoundId: h.nextRoundId,
    modelSpec: h.modelSpec,
    weights: { manifest: h.manifest, body: extra > 0 ? body.slice(0, size) : body },
    history: h.history,
    savedAt: h.savedAt,
    ...(strategyState ? { strategyState } : {}),
    ...(h.policyState ? { policyState: h.policyState } : {}),
    ...(h.rolledBackFrom !== undefined ? { rolledBackFrom: h.rolledBackFrom } : {}),
    ...(h.catalogue ? { catalogue: h.catalogue } : {}),
  };
}
