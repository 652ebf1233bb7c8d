import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Trusted Twin drop-in (issue 9): attributes Trusted Twin clients read and write that Twindex stores without acting
 * on them (a role's `entry_rule`, a user's `activity`, the account's `resource_access_log`), a secret's
 * `updated_ts`, and PINs that name their user: a PIN is now looked up by (account, hash of the PIN), so it must be
 * unique among an account's PINs, and it carries the validity of the secret it will create.
 */
export class TrustedTwinCompat1764100000000 implements MigrationInterface {
  name = 'TrustedTwinCompat1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE roles ADD COLUMN entry_rule text;
      ALTER TABLE users ADD COLUMN activity jsonb;
      ALTER TABLE accounts ADD COLUMN resource_access_log jsonb;
      ALTER TABLE secrets ADD COLUMN updated_ts double precision;
      -- NULL means "never updated": readers show created_ts (writers that predate the column keep working).

      -- PINs hashed the old way (salted with the user) cannot be found by account; they live 10 minutes anyway.
      DELETE FROM secret_pins;
      ALTER TABLE secret_pins ADD COLUMN secret_validity_ts double precision;
      CREATE UNIQUE INDEX secret_pins_account_pin_idx ON secret_pins (account, pin_hash);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX IF EXISTS secret_pins_account_pin_idx;
      ALTER TABLE secret_pins DROP COLUMN IF EXISTS secret_validity_ts;
      ALTER TABLE secrets DROP COLUMN IF EXISTS updated_ts;
      ALTER TABLE accounts DROP COLUMN IF EXISTS resource_access_log;
      ALTER TABLE users DROP COLUMN IF EXISTS activity;
      ALTER TABLE roles DROP COLUMN IF EXISTS entry_rule;
    `);
  }
}
