import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Bulk imports (docs/imports.md): one row per import with its report, and the staging table the API streams
 * the body into (one row per line, numbered as in the body) before the worker merges it into `identities`.
 */
export class Imports1764000000000 implements MigrationInterface {
  name = 'Imports1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE imports (
        uuid uuid PRIMARY KEY,
        account uuid NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        creator uuid NOT NULL,
        format text NOT NULL CHECK (format IN ('ndjson', 'csv')),
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
        received bigint NOT NULL DEFAULT 0,
        processed bigint NOT NULL DEFAULT 0,
        imported bigint NOT NULL DEFAULT 0,
        skipped bigint NOT NULL DEFAULT 0,
        -- The first 1,000 bad lines: [{"line", "subcode", "description"}].
        errors jsonb NOT NULL DEFAULT '[]',
        created_ts double precision NOT NULL,
        started_ts double precision,
        finished_ts double precision
      );
      CREATE INDEX imports_account_idx ON imports (account, created_ts DESC, uuid);

      -- Raw lines as received. raw is NULL when the line could not be stored as text (problem says why).
      CREATE TABLE import_lines (
        import uuid NOT NULL REFERENCES imports(uuid) ON DELETE CASCADE,
        line bigint NOT NULL,
        raw text,
        problem text,
        PRIMARY KEY (import, line)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS import_lines, imports CASCADE;`);
  }
}
