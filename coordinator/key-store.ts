import { readFile, stat } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { z } from 'zod';
import { generateKeyPair } from '@fedrec/protocol';
import type { KeyPair } from '@fedrec/protocol';
import { writeFileAtomic } from './atomic-file.js';
import type { Logger } from './logger.js';

const keyFileSchema = z.object({
  kind: z.literal('fedrec-x25519'),
  publicKey: z.string(),
  secretKey: z.string(),
});

/**
 * The coordinator's X25519 key pair, kept across restarts so clients can pin its fingerprint.
 * Without a file the key is ephemeral (fine for tests and simulations).
 */
export async function loadOrCreateKeyPair(file: string | undefined, logger: Logger): Promise<KeyPair> {
  if (!file) return generateKeyPair();
  const existing = await readKeyFile(file, logger);
  if (existing) return existing;
  const pair = generateKeyPair();
  const json = JSON.stringify({
    kind: 'fedrec-x25519',
    publicKey: Buffer.from(pair.publicKey).toString('base64'),
    secretKey: Buffer.from(pair.secretKey).toString('base64'),
  });
  await writeFileAtomic(file, json, 0o600);
  logger.info({ keyFile: file }, 'generated a new coordinator key pair');
  return pair;
}

async function readKeyFile(file: string, logger: Logger): Promise<KeyPair | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = keyFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`key file ${file} is not a fedrec X25519 key file`);
  const secretKey = new Uint8Array(Buffer.from(parsed.data.secretKey, 'base64'));
  if (secretKey.length !== nacl.box.secretKeyLength) throw new Error(`key file ${file}: secret key must be 32 bytes`);
  const pair = nacl.box.keyPair.fromSecretKey(secretKey);
  if (Buffer.from(pair.publicKey).toString('base64') !== parsed.data.publicKey) {
    throw new Error(`key file ${file}: public key does not match the secret key`);
  }
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) logger.warn({ keyFile: file, mode: (mode & 0o777).toString(8) }, 'key file is readable by others; chmod 600 it');
  return pair;
}
