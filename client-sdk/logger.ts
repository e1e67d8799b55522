/** The subset of pino's logger the SDK calls: (object, message). A pino logger fits as is. */
export type LogFn = (obj: object, msg?: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => {};

/** The default: libraries stay quiet unless the app hands them a logger. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
