/** The slice of pino's API the coordinator uses, so any pino logger (or a fake) can be injected. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

/** Default logger: says nothing (tests and embedding apps stay quiet unless they inject one). */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

/** A log-friendly view of anything thrown. */
export function errorFields(err: unknown): { err: { message: string; name?: string; stack?: string } } {
  if (err instanceof Error) return { err: { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) } };
  return { err: { message: String(err) } };
}
