import { appendFile, chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { signPublicKeyHexSchema } from '@fedrec/protocol';
import type { Logger } from './logger.js';

/** File name of the client id → device key bindings, next to the checkpoints. */
export const IDENTITIES_FILE = 'identities.jsonl';

const lineSchema = z.object({ clientId: z.string().min(1).max(128), publicKey: signPublicKeyHexSchema, boundAt: z.number() });

export type BindOutcome = 'bound' | 'known' | 'mismatch';

/**
 * The seam for the client id → device key table: this file's IdentityRegistry (memory + a JSON-lines
 * file) by default, coordinator/cluster/redis-identity-store.ts when nodes share one. Contract suite:
 * test/coordinator/identity-store.contract.ts.
 */
export interface IdentityStore {
  load(): Promise<void>;
  /** The key a client id is bound to, as far as this node knows now (an early refusal; bind decides). */
  keyOf(clientId: string): string | undefined;
  /** Binds an unbound id to `publicKey` atomically; says whether it was new, already this key, or another key. */
  bind(clientId: string, publicKey: string): BindOutcome | Promise<BindOutcome>;
  /** Resolves once every binding made so far is durable. */
  flush(): Promise<void>;
  readonly size: number;
}

/**
 * Which device key each client id belongs to: trust on first use, then for good. A binding is made
 * when a device first proves possession of its key and is appended to a JSON-lines file (0600) at
 * once, so a restart keeps it. Appending keeps the cost of a new device O(1) however many exist.
 */
export class IdentityRegistry implements IdentityStore {
  private readonly keys = new Map<string, string>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string | undefined,
    private readonly logger: Logger,
  ) {}

  /** Loads the bindings; an unreadable line (a torn append after a crash) is skipped with a warning. */
  async load(): Promise<void> {
    if (!this.file) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let parsed;
      try {
        parsed = lineSchema.safeParse(JSON.parse(line));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        skipped++;
        continue;
      }
      // The first binding of an id is the one that counts (a later line could only come from a bug).
      if (!this.keys.has(parsed.data.clientId)) this.keys.set(parsed.data.clientId, parsed.data.publicKey);
    }
    if (skipped) this.logger.warn({ file: this.file, skipped }, 'skipped unreadable identity lines');
    await chmod(this.file, 0o600).catch(() => {});
  }

  /** The key a client id is bound to, if any. */
  keyOf(clientId: string): string | undefined {
    return this.keys.get(clientId);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Binds an unbound id to `publicKey`; says whether it was new, already this key, or another key. */
  bind(clientId: string, publicKey: string): BindOutcome {
    const existing = this.keys.get(clientId);
    if (existing !== undefined) return existing === publicKey ? 'known' : 'mismatch';
    this.keys.set(clientId, publicKey);
    this.persist({ clientId, publicKey, boundAt: Date.now() });
    return 'bound';
  }

  /** Resolves once every binding made so far is on disk. */
  flush(): Promise<void> {
    return this.writes;
  }

  private persist(entry: z.infer<typeof lineSchema>): void {
    const file = this.file;
    if (!file) return;
    this.writes = this.writes
      .then(async () => {
        await mkdir(dirname(file), { recursive: true, mode: 0o700 });
        await appendFile(file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      })
      .catch((err: unknown) => this.logger.error({ file, err: String(err) }, 'could not persist an identity binding'));
  }
}
