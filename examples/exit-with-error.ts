import { explainConnectError } from './connect-errors.js';

/** A mistake in the command line or its files: the message says what to fix, so no stack trace is offered. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Prints an error for a person (no stack unless verbose) and exits with status 1. */
export function exitWithError(program: string, err: unknown, url: string, verbose: boolean): never {
  const explained = explainConnectError(err, url);
  console.error(`${program}: ${explained ?? (err instanceof Error ? err.message : String(err))}`);
  if (verbose && err instanceof Error && err.stack) console.error(err.stack);
  else if (!explained && !(err instanceof UsageError)) console.error('(run with --verbose for the stack trace)');
  process.exit(1);
}
