import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Sync sources and their runs (docs/sync.md), the provenance of synced rows, and grants: identities an upstream shows
 * the source's account that another account owns, stored apart so they never become personal to that account.
 */
export class Sync1763990000000 implements MigrationInterface {
  name = 'Sync1763990000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_sources (
        uuid uuid PRIMARY KEY,
        account uuid NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        name text NOT NULL,
        base_url text NOT NULL,
        -- AES-256-GCM: 12-byte IV, 16-byte tag, ciphertext; the key derives from TWINDEX_SECRET_KEY.
        secret_encrypted bytea NOT NULL,
        schedule text,
        include_foreign boolean NOT NULL DEFAULT false,
        enabled boolean NOT NULL DEFAULT true,
        max_concurrency integer NOT NULL DEFAULT 8,
        max_rate integer NOT NULL DEFAULT 100,
        -- Only the SHA-256 of the webhook token is kept.
        webhook_token_hash bytea NOT NULL,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL
      );
      CREATE INDEX sync_sources_account_idx ON sync_sources (account, created_ts);

      CREATE TABLE sync_runs (
        uuid uuid PRIMARY KEY,
        source uuid NOT NULL REFERENCES sync_sources(uuid) ON DELETE CASCADE,
        account uuid NOT NULL,
        mode text NOT NULL CHECK (mode IN ('full', 'incremental')),
        trigger text NOT NULL CHECK (trigger IN ('api', 'schedule')),
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
        -- twins: distinct twins the scan saw. done/failed/upserted/deleted: totals, written when the run finishes
        -- (sync_run_twins holds them while it runs); retries also counts the scan's.
        twins integer NOT NULL DEFAULT 0,
        done integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        upserted bigint NOT NULL DEFAULT 0,
        deleted bigint NOT NULL DEFAULT 0,
        retries integer NOT NULL DEFAULT 0,
        scan_done boolean NOT NULL DEFAULT false,
        updated_since double precision,
        errors jsonb NOT NULL DEFAULT '[]',
        created_ts double precision NOT NULL,
        started_ts double precision,
        finished_ts double precision
      );
      CREATE INDEX sync_runs_account_idx ON sync_runs (account, created_ts DESC, uuid);
      CREATE INDEX sync_runs_source_idx ON sync_runs (source, created_ts DESC, uuid);

      -- The twins a run's scan saw, each with the outcome of its sync, until the run finishes (then the totals move
      -- to sync_runs and a full run sweeps the source's other twins). A twin sync marks done every pending row of its
      -- twin queued before its upstream fetch started, whichever job it is: a deduplicated job serves every run that
      -- asked for the twin. Outcomes live here, not as counters on the run row, so concurrent twin syncs never
      -- queue on one hot row.
      CREATE TABLE sync_run_twins (
        run uuid NOT NULL REFERENCES sync_runs(uuid) ON DELETE CASCADE,
        twin uuid NOT NULL,
        queued_ts double precision NOT NULL,
        done boolean NOT NULL DEFAULT false,
        failed boolean NOT NULL DEFAULT false,
        upserted integer NOT NULL DEFAULT 0,
        deleted integer NOT NULL DEFAULT 0,
        retries integer NOT NULL DEFAULT 0,
        PRIMARY KEY (run, twin)
      );
      CREATE INDEX sync_run_twins_pending_twin_idx ON sync_run_twins (twin) WHERE NOT done;
      CREATE INDEX sync_run_twins_pending_run_idx ON sync_run_twins (run) WHERE NOT done;

      -- Per source and twin: whether upstream had the twin at the last sync, and when that sync's upstream fetch
      -- started. A reconcile whose fetch started earlier than the stored one is stale and is not applied.
      CREATE TABLE sync_twins (
        source uuid NOT NULL REFERENCES sync_sources(uuid) ON DELETE CASCADE,
        twin uuid NOT NULL,
        present boolean NOT NULL,
        fetched_ts double precision NOT NULL,
        PRIMARY KEY (source, twin)
      );
      CREATE INDEX sync_twins_twin_idx ON sync_twins (twin);

      -- Provenance of synced rows; NULL for rows written through the API or imports.
      ALTER TABLE identities ADD COLUMN source uuid;
      CREATE INDEX identities_source_idx ON identities (source, twin) WHERE source IS NOT NULL;
      ALTER TABLE twins ADD COLUMN source uuid;

      -- An identity owned by another account that the source's upstream shows the source's account (include_foreign):
      -- visible to the grantee alone while valid, never to the owner it names.
      CREATE TABLE identity_grants (
        name text NOT NULL,
        twin uuid NOT NULL REFERENCES twins(uuid) ON DELETE CASCADE,
        owner uuid NOT NULL,
        grantee uuid NOT NULL,
        source uuid NOT NULL,
        validity_ts double precision,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL,
        PRIMARY KEY (name, twin, owner, grantee)
      );
      CREATE INDEX identity_grants_source_idx ON identity_grants (source, twin);
      CREATE INDEX identity_grants_twin_idx ON identity_grants (twin);
    `);
    // Same change notifications as identities: a committed grant change evicts that name everywhere.
    await q.query(`
      CREATE TRIGGER identity_grants_notify_insert AFTER INSERT ON identity_grants REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION twindex_rows_changed('i', 'name');
      CREATE TRIGGER identity_grants_notify_update AFTER UPDATE ON identity_grants
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION twindex_rows_changed('i', 'name');
      CREATE TRIGGER identity_grants_notify_delete AFTER DELETE ON identity_grants REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION twindex_rows_changed('i', 'name');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS identity_grants, sync_twins, sync_run_twins, sync_runs, sync_sources CASCADE;
      DROP INDEX IF EXISTS identities_source_idx;
      ALTER TABLE identities DROP COLUMN IF EXISTS source;
      ALTER TABLE twins DROP COLUMN IF EXISTS source;
    `);
  }
}
