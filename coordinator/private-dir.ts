import { chmod, mkdir } from 'node:fs/promises';
import type { Logger } from './logger.js';

/**
 * Makes the checkpoint directory private (0700): checkpoints and identity bindings name clients, so
 * other local users must not read them. An existing directory is tightened too (files written before
 * this version may be 0644, but are then out of reach). Where chmod is not supported it warns.
 */
export async function ensurePrivateDirectory(dir: string, logger: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await chmod(dir, 0o700);
  } catch (err) {
    logger.warn({ dir, err: String(err) }, 'could not make the checkpoint directory private (chmod 700 it)');
  }
}
