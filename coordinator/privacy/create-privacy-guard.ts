import { join } from 'node:path';
import type { ResolvedOptions } from '../options.js';
import { PrivacyGuard } from './privacy-guard.js';
import { PRIVACY_LEDGER_FILE, PrivacyLedger } from './privacy-ledger.js';

/** The coordinator's privacy guard from its options (undefined when DP is off); the ledger lives beside the checkpoints. */
export function createPrivacyGuard(
  o: Pick<ResolvedOptions, 'privacy' | 'secureAggregation' | 'minResults' | 'checkpointDir' | 'logger'>,
): PrivacyGuard | undefined {
  if (o.privacy === 'off') return undefined;
  return new PrivacyGuard({
    settings: o.privacy,
    secureAggregation: o.secureAggregation,
    minResults: o.minResults,
    ledger: new PrivacyLedger(o.checkpointDir ? join(o.checkpointDir, PRIVACY_LEDGER_FILE) : undefined),
    logger: o.logger,
  });
}
