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
import { persistedCatalogueSchema, type PersistedCatalogue } from './catalogue.js';

/** What a checkpoint restores: the model, its version, the round counter and the history. */
export interface CheckpointState {
  modelVersion: number;
  nextRoundId: number;
  modelSpec: ModelSpec;
  weights: Weights;
  history: RoundRecord[];
  savedAt: number;
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
    const header = {
      format: 'fedrec-checkpoint',
      formatVersion: 1,
      modelVersion: state.modelVersion,
      nextRoundId: state.nextRoundId,
      modelSpec: state.modelSpec,
      manifest: state.weights.manifest,
      history: state.history,
      savedAt: state.savedAt,
      bodySha256: sha256(state.weights.body),
      ...(state.catalogue ? { catalogue: state.catalogue } : {}),
    };
    const path = join(this.dir, checkpointFileName(state.modelVersion));
    await writeFileAtomic(path, encodeFramed(header, state.weights.body));
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

  /** Checkpoint file names, oldest first. */
  async list(): Promise<string[]> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => FILE_PATTERN.test(n));
    return names.sort((a, b) => versionOf(a) - versionOf(b));
  }

  /** Deletes temp files left by a crash mid-write. */
  async removeLeftovers(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
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
  if (body.length !== sharedSize(h.manifest)) throw new RangeError(`checkpoint body has ${body.length} floats, manifest wants ${sharedSize(h.manifest)}`);
  if (sha256(body) !== h.bodySha256) throw new RangeError('checkpoint body checksum mismatch');
  return {
    modelVersion: h.modelVersion,
    nextRoundId: h.nextRoundId,
    modelSpec: h.modelSpec,
    weights: { manifest: h.manifest, body },
    history: h.history,
    savedAt: h.savedAt,
    ...(h.catalogue ? { catalogue: h.catalogue } : {}),
  };
}
