import { isValidIdentityName } from '../domain/identity/identity-name.js';
import { normalizeUuid } from '../domain/identity/uuid.js';
import { ruleTextProblem } from '../domain/rules/index.js';
import type { ImportFormat } from './line-splitter.js';

/** One valid line, ready to merge (the twin's existence and visibility are checked per batch). */
export interface ImportRecord {
  twin: string;
  name: string;
  visibility: string | null;
  validityTs: number | null;
}

export interface LineError {
  line: number;
  subcode: string;
  description: string;
}

export const CSV_HEADER = ['twin', 'identity', 'visibility', 'validity_ts'] as const;

export class LineProblem extends Error {
  constructor(
    readonly subcode: string,
    description: string,
  ) {
    super(description);
  }
}

/** Parses and validates one line's fields; throws LineProblem. */
export function parseImportLine(format: ImportFormat, raw: string): ImportRecord {
  return format === 'ndjson' ? parseNdjson(raw) : parseCsvRecord(parseCsvLine(raw));
}

/**
 * The shape of nearly every machine-written import line: `{"twin":"…","identity":"…"}`, no spaces, no other field.
 * Neither value can hold a quote or a backslash here, so JSON.parse would return exactly the two captured strings;
 * they are taken from the match instead and go through the same checks (validate) as any line. This is about a
 * third of JSON.parse's cost and makes no object: the API's parse of a 200,000-line body is mostly this. Every other
 * line, including one of this shape with spaces, escapes or other characters, goes through JSON.parse.
 */
const PLAIN_NDJSON_LINE = /^\{"twin":"([0-9A-Za-z-]{1,36})","identity":"([0-9A-Za-z_#=+-]{1,137})"\}$/;

function parseNdjson(raw: string): ImportRecord {
  const plain = PLAIN_NDJSON_LINE.exec(raw);
  if (plain !== null) return validate(plain[1], plain[2], null, null);
  return parseNdjsonValue(raw);
}

/** Any NDJSON line, through JSON.parse. Exported for the test that holds the shortcut above to its results. */
export function parseNdjsonValue(raw: string): ImportRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new LineProblem('invalid_json', 'line is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new LineProblem('invalid_json', 'line is not a JSON object');
  const o = value as Record<string, unknown>;
  const visibility = o.visibility ?? null;
  if (visibility !== null && typeof visibility !== 'string')
    throw new LineProblem('invalid_rule', 'visibility must be a string or null');
  const validity = o.validity_ts ?? null;
  if (validity !== null && typeof validity !== 'number')
    throw new LineProblem('invalid_timestamp', 'validity_ts must be a number or null');
  return validate(o.twin, o.identity, visibility, validity);
}

/** One CSV record on one line (RFC 4180 quoting; a quoted field cannot span lines). */
export function parseCsvLine(raw: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (raw[i] === '"') {
      i++;
      for (;;) {
        if (i >= raw.length) throw new LineProblem('invalid_csv', 'unterminated quoted field');
        if (raw[i] === '"') {
          if (raw[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += raw[i++];
      }
      if (i < raw.length && raw[i] !== ',')
        throw new LineProblem('invalid_csv', 'unexpected character after a quoted field');
    } else {
      const comma = raw.indexOf(',', i);
      const end = comma < 0 ? raw.length : comma;
      field = raw.slice(i, end);
      if (field.includes('"')) throw new LineProblem('invalid_csv', 'quote inside an unquoted field');
      i = end;
    }
    fields.push(field);
    if (i >= raw.length) return fields;
    i++; // the comma
  }
}

export function isCsvHeader(fields: readonly string[]): boolean {
  return (
    fields.length === CSV_HEADER.length && fields.every((f, k) => f.trim().toLowerCase() === CSV_HEADER[k])
  );
}

function parseCsvRecord(fields: string[]): ImportRecord {
  if (fields.length < 2 || fields.length > 4)
    throw new LineProblem(
      'invalid_csv',
      `expected 2 to 4 fields (${CSV_HEADER.join(',')}), got ${fields.length}`,
    );
  const [twin, identity, visibility = '', validity = ''] = fields;
  return parseCsvFields(twin, identity, visibility, validity);
}

/** Validates the fields of one CSV record (an empty visibility or validity_ts is absent); throws LineProblem. */
export function parseCsvFields(
  twin: string,
  identity: string,
  visibility: string,
  validity: string,
): ImportRecord {
  let validityTs: number | null = null;
  if (validity.trim() !== '') {
    validityTs = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(validity) ? Number(validity) : NaN;
  }
  return validate(twin, identity, visibility === '' ? null : visibility, validityTs);
}

/** With the `u` flag a surrogate pair is one code point, so this matches only a surrogate standing alone. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Why a field's text cannot be stored as given, or null. A lone surrogate (a `\ud800` JSON escape) would be stored
 * as U+FFFD, text its sender never wrote; a NUL cannot be stored at all. The API refuses both in a request body
 * (a `400`); an import skips the line.
 */
export function storableTextProblem(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  if (LONE_SURROGATE.test(value)) return 'holds a lone surrogate (an unpaired \\ud800-\\udfff escape)';
  if (value.includes('\u0000')) return 'holds a NUL character';
  return null;
}

function validate(
  twin: unknown,
  identity: unknown,
  visibility: string | null,
  validity: number | null,
): ImportRecord {
  // Checked before the grammar of each field, so that no check below ever sees (or quotes) such text.
  for (const [value, subcode, field] of [
    [twin, 'invalid_twin', 'twin'],
    [identity, 'invalid_identity', 'identity'],
    [visibility, 'invalid_rule', 'visibility'],
  ] as const) {
    const problem = storableTextProblem(value);
    if (problem !== null) throw new LineProblem(subcode, `${field} ${problem}`);
  }
  const uuid = normalizeUuid(twin);
  if (uuid === null) throw new LineProblem('invalid_twin', 'twin must be a twin UUID');
  if (!isValidIdentityName(identity)) {
    const shown = typeof identity === 'string' ? identity.slice(0, 140) : String(identity);
    throw new LineProblem('invalid_identity', `Identity '${shown}' is not a valid identity name`);
  }
  if (validity !== null && (!Number.isFinite(validity) || validity < 0))
    throw new LineProblem('invalid_timestamp', 'validity_ts must be a non-negative number of seconds');
  if (visibility !== null) {
    const problem = ruleTextProblem(visibility);
    if (problem !== null) throw new LineProblem('invalid_rule', `visibility: ${problem}`);
  }
  return { twin: uuid, name: identity, visibility, validityTs: validity };
}
