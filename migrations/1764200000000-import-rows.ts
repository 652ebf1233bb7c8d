import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Imports staged as validated rows (issue 13): the API parses and checks each line while the body arrives, spools
 * the good ones as COPY text and loads them with one `COPY import_rows FROM STDIN`; the worker merges them into
 * `identities` with set-based statements. The old per-line staging table goes (its imports are marked failed).
 *
 * `import_rows` is UNLOGGED: staging is rewritten once and read once, so its WAL would only slow the load. A
 * database crash empties it; the merge compares the row count with `imports.staged` and fails such an import with
 * a clear reason rather than completing it short. The `import` column takes its value from a transaction setting
 * (`SET LOCAL twindex.import_id`), so the COPY stream need not repeat the UUID on every row.
 */
export class ImportRows1764200000000 implements MigrationInterface {
  name = 'ImportRows1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE imports SET status = 'failed', finished_ts = extract(epoch from now()),
             errors = errors || '[{"line":0,"subcode":"import_failed","description":"Staging changed during an upgrade: import the file again"}]'::jsonb
       WHERE status IN ('queued', 'running');
      DROP TABLE IF EXISTS import_lines;

      CREATE UNLOGGED TABLE import_rows (
        import uuid NOT NULL DEFAULT current_setting('twindex.import_id')::uuid,
        line bigint NOT NULL,
        twin uuid NOT NULL,
        name text NOT NULL,
        visibility text,
        validity_ts double precision,
        PRIMARY KEY (import, line)
      );

      -- What staging found: rows loaded, lines skipped, and the first 1,000 of those (merged into the report
      -- at the start of each merge, so a restarted merge recomputes the report from scratch).
      ALTER TABLE imports
        ADD COLUMN staged bigint NOT NULL DEFAULT 0,
        ADD COLUMN stage_skipped bigint NOT NULL DEFAULT 0,
        ADD COLUMN stage_errors jsonb NOT NULL DEFAULT '[]';
      CREATE INDEX imports_unfinished_idx ON imports (created_ts) WHERE status IN ('queued', 'running');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX IF EXISTS imports_unfinished_idx;
      ALTER TABLE imports DROP COLUMN staged, DROP COLUMN stage_skipped, DROP COLUMN stage_errors;
      DROP TABLE IF EXISTS import_rows;
      CREATE TABLE import_lines (
        import uuid NOT NULL REFERENCES imports(uuid) ON DELETE CASCADE,
        line bigint NOT NULL,
        raw text,
        problem text,
        PRIMARY KEY (import, line)
      );
    `);
  }
}
