// Where the browser tests find Chromium: Debian's package (never a browser downloaded at run time).
import { accessSync, constants } from 'node:fs';

/** Looked at in order; FEDREC_CHROMIUM (a path) wins over all of them. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium', '/usr/bin/google-chrome'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium to drive, or undefined when none is installed. */
export function findChromium(env: Record<string, string | undefined> = process.env): string | undefined {
  const forced = env['FEDREC_CHROMIUM'];
  if (forced) return executable(forced) ? forced : undefined;
  return CHROMIUM_CANDIDATES.find(executable);
}
