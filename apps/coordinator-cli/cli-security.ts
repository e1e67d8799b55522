import { readFile } from 'node:fs/promises';
import { parseAllowedKeys } from '@fedrec/coordinator/enrolment.js';
import type { CoordinatorOptions } from '@fedrec/coordinator/options.js';
import type { CliConfig } from './cli-config.js';

/** The security settings that name files (TLS PEMs, the allowed-keys list), read here at the edge. */
export async function securityFilesFromCli(config: Pick<CliConfig, 'tlsCert' | 'tlsKey' | 'allowedKeysFile'>): Promise<Partial<CoordinatorOptions>> {
  const out: Partial<CoordinatorOptions> = {};
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    out.tls = { cert: await readFile(config.tlsCert, 'utf8'), key: await readFile(config.tlsKey, 'utf8') };
  }
  if (config.allowedKeysFile !== undefined) out.allowedKeys = parseAllowedKeys(await readFile(config.allowedKeysFile, 'utf8'));
  return out;
}
