/**
 * `v` as one of `choices` (a mode read from a flag or from round config, which a device must treat as
 * untrusted input); anything else is a RangeError naming `what` and the choices.
 */
export function parseChoice<T extends string>(v: unknown, choices: readonly T[], what: string): T {
  if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
  throw new RangeError(`${what} must be one of ${choices.join(', ')}, not ${JSON.stringify(v)}`);
}
