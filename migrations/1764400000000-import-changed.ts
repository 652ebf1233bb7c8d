import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The import report's `changed` count: identities the import added or whose attributes it changed. `imported`
 * counts the good lines merged, so a re-import of the same file reported every line "imported" although it wrote
 * nothing; `changed` says what the merge actually wrote.
 */
export class ImportChanged1764400000000 implements MigrationInterface {
  name = 'ImportChanged1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE imports ADD COLUMN changed bigint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE imports DROP COLUMN changed`);
  }
}
