import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The whole data model known at the foundation: tenants and access control, twins, identities, audit log,
 * and the change-notification triggers that keep every API instance's caches coherent.
 *
 * Timestamps are `double precision` seconds since the epoch, the API's own unit, so no conversion runs per row.
 */
export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        uuid uuid PRIMARY KEY,
        name text NOT NULL,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL
      );

      CREATE TABLE roles (
        uuid uuid PRIMARY KEY,
        account uuid NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        name text NOT NULL,
        effect text NOT NULL CHECK (effect IN ('allow', 'deny')),
        actions text[],
        twin_rule text,
        identity_rule text,
        is_immutable boolean NOT NULL DEFAULT false,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL
      );
      CREATE INDEX roles_account_idx ON roles (account, created_ts);

      CREATE TABLE users (
        uuid uuid PRIMARY KEY,
        account uuid NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        name text NOT NULL,
        role uuid NOT NULL REFERENCES roles(uuid),
        description jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL CHECK (status IN ('active', 'disabled')),
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL
      );
      CREATE INDEX users_account_idx ON users (account, created_ts);
      CREATE INDEX users_role_idx ON users (role);

      -- Only the SHA-256 of a secret is kept; the hash is the lookup key of every authenticated request.
      CREATE TABLE secrets (
        hash bytea PRIMARY KEY,
        fingerprint text NOT NULL,
        account uuid NOT NULL,
        user_uuid uuid NOT NULL REFERENCES users(uuid) ON DELETE CASCADE,
        validity_ts double precision,
        created_ts double precision NOT NULL,
        UNIQUE (user_uuid, fingerprint)
      );

      -- Kept apart from secrets so that recording use never fires the access-change notification.
      CREATE TABLE secret_usage (
        hash bytea PRIMARY KEY REFERENCES secrets(hash) ON DELETE CASCADE,
        last_used_ts double precision NOT NULL
      );

      CREATE TABLE secret_pins (
        user_uuid uuid PRIMARY KEY REFERENCES users(uuid) ON DELETE CASCADE,
        account uuid NOT NULL,
        pin_hash bytea NOT NULL,
        validity_ts double precision NOT NULL,
        failed_attempts integer NOT NULL DEFAULT 0
      );

      CREATE TABLE permissions (
        id text PRIMARY KEY,
        account uuid NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        name text NOT NULL,
        operations text[] NOT NULL,
        is_immutable boolean NOT NULL DEFAULT false,
        is_archived boolean NOT NULL DEFAULT false,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL
      );
      CREATE INDEX permissions_account_idx ON permissions (account, created_ts, id);

      CREATE TABLE permission_assignments (
        id text PRIMARY KEY,
        permission_id text NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
        user_uuid uuid NOT NULL REFERENCES users(uuid) ON DELETE CASCADE,
        account uuid NOT NULL,
        created_ts double precision NOT NULL,
        UNIQUE (permission_id, user_uuid)
      );
      CREATE INDEX permission_assignments_user_idx ON permission_assignments (user_uuid);

      CREATE TABLE twins (
        uuid uuid PRIMARY KEY,
        owner uuid NOT NULL,
        status text NOT NULL CHECK (status IN ('alive', 'terminated')),
        description jsonb NOT NULL DEFAULT '{}',
        creator uuid NOT NULL,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL,
        terminated_ts double precision,
        terminator uuid
      );
      -- Cursor paging of GET /twins walks (updated_ts, uuid).
      CREATE INDEX twins_updated_idx ON twins (updated_ts, uuid);
      CREATE INDEX twins_owner_updated_idx ON twins (owner, updated_ts, uuid);

      -- The name leads the primary key, so "every row with this name" is one index scan and no
      -- separate name index is needed (it would halve the bulk-load rate).
      CREATE TABLE identities (
        name text NOT NULL,
        twin uuid NOT NULL REFERENCES twins(uuid) ON DELETE CASCADE,
        owner uuid NOT NULL,
        visibility text,
        validity_ts double precision,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL,
        creator uuid NOT NULL,
        PRIMARY KEY (name, twin, owner)
      );
      CREATE INDEX identities_twin_idx ON identities (twin, owner);

      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        account uuid NOT NULL,
        user_uuid uuid,
        action text NOT NULL,
        target_type text NOT NULL,
        target text NOT NULL,
        trace text,
        ts double precision NOT NULL
      );
      CREATE INDEX audit_log_account_idx ON audit_log (account, id DESC);
    `);

    await q.query(`
      -- Sends keys on channel twindex_changes as "kind|sent_ms|key,key,…", each payload below PostgreSQL's
      -- 8000-byte limit; sent_ms lets listeners measure invalidation lag. A huge statement (bulk import,
      -- migration) sends one "kind|sent_ms|*" (flush that cache) instead of thousands of messages.
      CREATE FUNCTION twindex_notify_keys(kind text, keys text[]) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        head text := kind || '|' || (extract(epoch FROM clock_timestamp()) * 1000)::bigint || '|';
        chunk text := '';
        k text;
      BEGIN
        IF keys IS NULL OR cardinality(keys) = 0 THEN RETURN; END IF;
        IF cardinality(keys) > 5000 THEN
          PERFORM pg_notify('twindex_changes', head || '*');
          RETURN;
        END IF;
        FOREACH k IN ARRAY keys LOOP
          IF chunk <> '' AND length(chunk) + length(k) > 7000 THEN
            PERFORM pg_notify('twindex_changes', head || chunk);
            chunk := '';
          END IF;
          chunk := CASE WHEN chunk = '' THEN k ELSE chunk || ',' || k END;
        END LOOP;
        PERFORM pg_notify('twindex_changes', head || chunk);
      END $$;

      -- kind i: identity names; kind t: twin uuids; kind a: accounts whose access data changed.
      -- TG_ARGV[0] is the kind, TG_ARGV[1] the column that names the key.
      CREATE FUNCTION twindex_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        keys text[];
      BEGIN
        IF TG_OP = 'INSERT' THEN
          EXECUTE format('SELECT array_agg(DISTINCT %I::text) FROM new_rows', TG_ARGV[1]) INTO keys;
        ELSIF TG_OP = 'DELETE' THEN
          EXECUTE format('SELECT array_agg(DISTINCT %I::text) FROM old_rows', TG_ARGV[1]) INTO keys;
        ELSE
          EXECUTE format('SELECT array_agg(k) FROM (SELECT %I::text AS k FROM new_rows UNION SELECT %I::text FROM old_rows) s',
                         TG_ARGV[1], TG_ARGV[1]) INTO keys;
        END IF;
        PERFORM twindex_notify_keys(TG_ARGV[0], keys);
        RETURN NULL;
      END $$;
    `);

    const watched: Array<[table: string, kind: string, column: string]> = [
      ['identities', 'i', 'name'],
      ['twins', 't', 'uuid'],
      ['accounts', 'a', 'uuid'],
      ['roles', 'a', 'account'],
      ['users', 'a', 'account'],
      ['secrets', 'a', 'account'],
      ['permissions', 'a', 'account'],
      ['permission_assignments', 'a', 'account'],
    ];
    for (const [table, kind, column] of watched) {
      // Transition tables allow one event per trigger, hence three statement-level triggers per table.
      await q.query(`
        CREATE TRIGGER ${table}_notify_insert AFTER INSERT ON ${table} REFERENCING NEW TABLE AS new_rows
          FOR EACH STATEMENT EXECUTE FUNCTION twindex_rows_changed('${kind}', '${column}');
        CREATE TRIGGER ${table}_notify_update AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
          FOR EACH STATEMENT EXECUTE FUNCTION twindex_rows_changed('${kind}', '${column}');
        CREATE TRIGGER ${table}_notify_delete AFTER DELETE ON ${table} REFERENCING OLD TABLE AS old_rows
          FOR EACH STATEMENT EXECUTE FUNCTION twindex_rows_changed('${kind}', '${column}');
      `);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS audit_log, identities, twins, permission_assignments, permissions, secret_pins,
        secret_usage, secrets, users, roles, accounts CASCADE;
      DROP FUNCTION IF EXISTS twindex_rows_changed();
      DROP FUNCTION IF EXISTS twindex_notify_keys(text, text[]);
    `);
  }
}
