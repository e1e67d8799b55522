import { pino, type Logger } from 'pino';
import PinoPretty from 'pino-pretty';

export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * The service's logger: pino-pretty (a well-kept formatter, rather than our own) on a terminal, pino's
 * JSON lines when the output is piped (log shippers, tests) or with --log-format json.
 */
export function createCliLogger(level: string, format: LogFormat, out: NodeJS.WriteStream = process.stdout): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY === true);
  const options = { level, base: { service: 'fedrec-coordinator' } };
  if (!pretty) return pino(options, out);
  // Synchronous, in this thread: no worker transport to outlive a crash or to lose the last lines.
  return pino(options, PinoPretty({ destination: out, colorize: out.isTTY === true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname,service', sync: true }));
}
