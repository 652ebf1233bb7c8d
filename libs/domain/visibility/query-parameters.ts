import { TwindexError } from '../errors.js';

/** `400 invalid_parameter`, naming the query (or body) parameter so the caller knows what to fix. */
export class InvalidParameterError extends TwindexError {
  override name = 'InvalidParameterError';
  constructor(
    readonly parameter: string,
    reason: string,
  ) {
    super('bad_request', 'invalid_parameter', `Parameter '${parameter}' ${reason}`);
  }
}

/**
 * A boolean query parameter: `true`/`false` in any letter case (docs/http.md); a JSON boolean is accepted too, so
 * the same parser serves POST bodies. Absent → `defaultValue`. Given twice → error: which one wins would be a guess.
 */
export function parseBooleanParameter(parameter: string, raw: unknown, defaultValue: boolean): boolean {
  if (raw === undefined) return defaultValue;
  if (typeof raw === 'boolean') return raw;
  const value = Array.isArray(raw) && raw.length === 1 ? (raw[0] as unknown) : raw;
  if (Array.isArray(value)) throw new InvalidParameterError(parameter, 'is given more than once');
  const parsed = parseBooleanText(value);
  if (parsed === undefined)
    throw new InvalidParameterError(parameter, `must be true or false, not ${quote(value)}`);
  return parsed;
}

/** `true`/`false` in any letter case, else undefined. */
export function parseBooleanText(value: unknown): boolean | undefined {
  if (typeof value !== 'string' || (value.length !== 4 && value.length !== 5)) return undefined;
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

/** Quotes a rejected value for an error message, truncated: error bodies must stay small. */
export function quote(value: unknown): string {
  if (typeof value !== 'string') return `a value of type ${typeof value}`;
  return value.length > 80 ? `'${value.slice(0, 80)}…'` : `'${value}'`;
}
