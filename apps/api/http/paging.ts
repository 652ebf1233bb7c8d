import { InvalidParameterError } from '../../../libs/domain/visibility/query-parameters.js';
import { decodeCursor as decodeParts, encodeCursor } from '../../../libs/paging/cursor-codec.js';

export { encodeCursor };

/** A cursor query parameter (libs/paging/cursor-codec.ts); one that does not decode is `400 invalid_parameter`. */
export function decodeCursor(raw: unknown, parameter = 'cursor'): unknown[] | undefined {
  if (raw === undefined) return undefined;
  const parts = decodeParts(single(raw, parameter), 512);
  if (parts === null) throw badCursor(parameter);
  return parts;
}

export function badCursor(parameter = 'cursor'): InvalidParameterError {
  return new InvalidParameterError(parameter, 'is not a cursor this API returned');
}

/** An integer query parameter within [min, max]; absent → fallback. */
export function parseIntegerParameter(
  parameter: string,
  raw: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (raw === undefined) return fallback;
  const value = single(raw, parameter);
  if (!/^\d{1,7}$/.test(value))
    throw new InvalidParameterError(parameter, `must be an integer from ${min} to ${max}`);
  const n = Number(value);
  if (n < min || n > max)
    throw new InvalidParameterError(parameter, `must be an integer from ${min} to ${max}`);
  return n;
}

/** A number query parameter (seconds since the epoch); absent → undefined. */
export function parseNumberParameter(parameter: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const value = single(raw, parameter);
  const n = /^-?\d{1,15}(\.\d{1,9})?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n))
    throw new InvalidParameterError(parameter, 'must be a number of seconds since the epoch');
  return n;
}

/** Query parameters arrive as a string, or an array when repeated; a repeated one is ambiguous. */
export function single(raw: unknown, parameter: string): string {
  const value = Array.isArray(raw) && raw.length === 1 ? (raw[0] as unknown) : raw;
  if (Array.isArray(value)) throw new InvalidParameterError(parameter, 'is given more than once');
  if (typeof value !== 'string') throw new InvalidParameterError(parameter, 'must be a single value');
  return value;
}
