import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from './config.schema.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const OPERATIONS = join(ROOT, 'docs/operations.md');
const ENV_EXAMPLE = join(ROOT, '.env.example');

interface DocumentedVariable {
  name: string;
  /** The default as the doc quotes it: the text inside backticks, or `unset`. */
  fallback: string;
}

/**
 * The rows of the first table under "## Configuration" in docs/operations.md. Each row must name exactly one
 * variable (in backticks) and quote its default in backticks, or say `unset`; a row that does neither — a separator
 * in the middle, two variables in one cell — fails here, because a reader cannot look one up either.
 */
function documentedVariables(markdown: string): DocumentedVariable[] {
  const section = /^## Configuration\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1];
  if (section === undefined) throw new Error('docs/operations.md has no "## Configuration" section');
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  if (start < 0) throw new Error('the Configuration section has no table');
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows.map((row) => {
    const cells = row
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[0] ?? '')?.[1];
    if (name === undefined) throw new Error(`not one variable per row: ${row}`);
    const quoted = /^`([^`]*)`$/.exec(cells[1] ?? '')?.[1];
    if (quoted === undefined && cells[1] !== 'unset') {
      throw new Error(`${name}: the default must be one value in backticks, or unset: ${cells[1]}`);
    }
    return { name, fallback: quoted ?? 'unset' };
  });
}

/** What the process uses when the variable is absent, written as the doc writes it. */
function schemaDefaults(): Map<string, string> {
  const defaults = configSchema.parse({}) as Record<string, unknown>;
  return new Map(
    Object.keys(configSchema.shape).map((name) => {
      const value = defaults[name];
      // Defaults are strings, numbers or booleans; anything else prints as JSON (and will not match the doc).
      const text =
        typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : JSON.stringify(value);
      return [name, value === undefined ? 'unset' : text];
    }),
  );
}

describe('docs/operations.md configuration table', () => {
  const documented = documentedVariables(readFileSync(OPERATIONS, 'utf8'));
  const schema = schemaDefaults();

  it('documents every variable of the config schema, once', () => {
    const names = documented.map((v) => v.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect([...schema.keys()].filter((n) => !names.includes(n))).toEqual([]);
  });

  it('documents no variable the processes do not read', () => {
    expect(documented.map((v) => v.name).filter((n) => !schema.has(n))).toEqual([]);
  });

  it("quotes each variable's default as the schema has it", () => {
    const wrong = documented
      .filter((v) => schema.has(v.name) && schema.get(v.name) !== v.fallback)
      .map((v) => ({ variable: v.name, documented: v.fallback, schema: schema.get(v.name) }));
    expect(wrong).toEqual([]);
  });

  it('reads one variable per row and refuses a row that is not one', () => {
    const doc = (row: string) =>
      `## Configuration\n\n| variable | default | meaning |\n| --- | --- | --- |\n| \`PORT\` | \`8080\` | x |\n${row}\n\n## Next\n`;
    expect(documentedVariables(doc('| `HOST` | unset | y |'))).toEqual([
      { name: 'PORT', fallback: '8080' },
      { name: 'HOST', fallback: 'unset' },
    ]);
    expect(() => documentedVariables(doc('| --- | --- | --- |'))).toThrow(/one variable per row/);
    expect(() => documentedVariables(doc('| `HOST`, `PORT` | `a`, `b` | z |'))).toThrow(
      /one variable per row/,
    );
  });
});

describe('.env.example', () => {
  // `NAME=value` lines; a blank value means the default (loadConfig ignores blank variables).
  const lines = readFileSync(ENV_EXAMPLE, 'utf8')
    .split('\n')
    .map((l) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  const schema = schemaDefaults();

  it('lists every variable of the config schema and no other', () => {
    const names = lines.map((m) => m[1]);
    expect([...schema.keys()].filter((n) => !names.includes(n))).toEqual([]);
    expect(names.filter((n) => !schema.has(n))).toEqual([]);
  });

  it('gives each variable it fills in the default of the schema', () => {
    const wrong = lines
      .filter((m) => m[2] !== '' && schema.get(m[1]) !== m[2])
      .map((m) => ({ variable: m[1], example: m[2], schema: schema.get(m[1]) }));
    expect(wrong).toEqual([]);
  });
});
