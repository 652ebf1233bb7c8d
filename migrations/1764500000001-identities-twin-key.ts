import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Identities keep no foreign key to twins: its per-row check (a lookup and a KEY SHARE lock of the twin for every
 * identity written) was about 40 % of an import merge. Integrity is kept set-based instead (docs/imports.md,
 * "Integrity without a per-row key"): every writer of identities locks the twins it writes to, and the one statement
 * that deletes twins locks them first and removes their identities with them, as the cascade did.
 */
export class IdentitiesTwinKey1764500000001 implements MigrationInterface {
  name = 'IdentitiesTwinKey1764500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identities DROP CONSTRAINT IF EXISTS identities_twin_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM identities i WHERE NOT EXISTS (SELECT 1 FROM twins t WHERE t.uuid = i.twin);
      ALTER TABLE identities ADD CONSTRAINT identities_twin_fkey
        FOREIGN KEY (twin) REFERENCES twins(uuid) ON DELETE CASCADE;
    `);
  }
}
