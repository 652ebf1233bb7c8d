import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Change notifications (docs/notifications.md): topics, grants, subscriptions, and a two-stage outbox.
 *
 * - `notification_events` is written only by database triggers on identities and twins (and by
 *   `twindex_publish_expired`, called by the worker's expiry sweep), in the transaction of the change: every writer is
 *   covered (API, import, sync, psql) and a rollback leaves nothing behind. Changes of one twin of one trigger in one
 *   transaction merge into one row (`ON CONFLICT … event || excluded.event`), keyed by identity name.
 * - `notification_messages` is the per-subscription queue the worker's dispatcher fans events out into (topic rules
 *   are evaluated there, in TypeScript), each with its `sequence`; delivered rows are deleted.
 *
 * An account without topics pays one probe of `notification_topics` per statement: the trigger stops at once when
 * no topic has the statement's trigger.
 */
export class Notifications1764600000000 implements MigrationInterface {
  name = 'Notifications1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_topics (
        account uuid NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        topic text NOT NULL,
        triggers text[] NOT NULL,
        rule text,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL,
        PRIMARY KEY (account, topic)
      );
      -- The triggers' "does any topic want this trigger" probe reads only this small index.
      CREATE INDEX notification_topics_triggers_idx ON notification_topics USING gin (triggers);

      -- Which other accounts may subscribe to which of the publishing account's topics.
      CREATE TABLE notification_grants (
        account uuid NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        grantee uuid NOT NULL,
        topics text[] NOT NULL,
        updated_ts double precision NOT NULL,
        PRIMARY KEY (account, grantee)
      );

      CREATE TABLE notification_subscriptions (
        uuid uuid PRIMARY KEY,
        account uuid NOT NULL,
        topic text NOT NULL,
        subscriber uuid NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        callback_url text NOT NULL,
        -- SHA-256 of the bearer token; the token itself is derived (HMAC) when a message needs its URLs.
        token_hash bytea NOT NULL UNIQUE,
        token_nonce text NOT NULL,
        -- client_secret || server_secret, sealed (AES-GCM, TWINDEX_SECRET_KEY); null without a client_secret.
        hash_key_sealed bytea,
        max_batch integer CHECK (max_batch BETWEEN 1 AND 500),
        status text NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'expired', 'ended')),
        validity_ts double precision NOT NULL,
        confirmation_due boolean NOT NULL DEFAULT true,
        next_sequence bigint NOT NULL DEFAULT 1,
        failures integer NOT NULL DEFAULT 0,
        failing_since double precision,
        last_error text,
        next_attempt_ts double precision NOT NULL DEFAULT 0,
        lease_until double precision NOT NULL DEFAULT 0,
        -- The worker process holding the lease: after a lost database it takes its own leases back at once.
        lease_owner uuid,
        last_delivery_ts double precision,
        created_ts double precision NOT NULL,
        updated_ts double precision NOT NULL
      );
      CREATE INDEX notification_subscriptions_topic_idx ON notification_subscriptions (account, topic);
      CREATE INDEX notification_subscriptions_subscriber_idx ON notification_subscriptions (subscriber, created_ts);
      -- The delivery loop's "what is due" and "when is the next retry" walk only live subscriptions by time.
      CREATE INDEX notification_subscriptions_due_idx ON notification_subscriptions (next_attempt_ts)
        WHERE status IN ('pending', 'active');

      CREATE TABLE notification_events (
        id bigserial PRIMARY KEY,
        tx bigint NOT NULL DEFAULT txid_current(),
        account uuid NOT NULL,
        trigger text NOT NULL,
        twin uuid NOT NULL,
        event jsonb NOT NULL,
        changed_ts double precision NOT NULL,
        UNIQUE (tx, account, twin, trigger)
      );

      CREATE TABLE notification_messages (
        subscription uuid NOT NULL REFERENCES notification_subscriptions(uuid) ON DELETE CASCADE,
        sequence bigint NOT NULL,
        message uuid NOT NULL,
        trigger text NOT NULL,
        twin uuid NOT NULL,
        event jsonb NOT NULL,
        -- The change's own time (latency metric); created_ts is when it was queued (retention).
        changed_ts double precision NOT NULL,
        created_ts double precision NOT NULL,
        PRIMARY KEY (subscription, sequence)
      );

      -- The expiry sweep walks validity_ts; partial, so identities without a validity (most) cost no index entry.
      CREATE INDEX identities_validity_idx ON identities (validity_ts) WHERE validity_ts IS NOT NULL;

      -- Edge mirrors by push: a sync source may subscribe to a topic of its upstream; the worker renews the
      -- subscription before it expires and keeps here when it did (docs/notifications.md "Edge mirrors").
      ALTER TABLE sync_sources ADD COLUMN subscribe_topic text;
      CREATE TABLE sync_source_push (
        source uuid NOT NULL REFERENCES sync_sources(uuid) ON DELETE CASCADE,
        topic text NOT NULL,
        subscribed_ts double precision NOT NULL,
        validity_ts double precision NOT NULL,
        -- client_secret || server_secret of that subscription, sealed: the intake verifies each message's hash.
        hash_key_sealed bytea,
        PRIMARY KEY (source, subscribed_ts)
      );

      -- Watermarks of the worker's sweeps (identity.expired: the validity_ts already published up to).
      CREATE TABLE notification_state (
        name text PRIMARY KEY,
        value double precision NOT NULL
      );
    `);

    await q.query(`
      -- Appends one statement's events to the outbox, merging into this transaction's row of the same twin and
      -- trigger, and wakes the worker (pg_notify is delivered at commit, never for a rollback).
      CREATE FUNCTION twindex_outbox_append(rows jsonb) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        added bigint;
      BEGIN
        INSERT INTO notification_events AS e (account, trigger, twin, event, changed_ts)
        SELECT (r->>'account')::uuid, r->>'trigger', (r->>'twin')::uuid, r->'event', (r->>'changed_ts')::double precision
          FROM jsonb_array_elements(rows) r
        ON CONFLICT (tx, account, twin, trigger)
          DO UPDATE SET event = e.event || excluded.event, changed_ts = greatest(e.changed_ts, excluded.changed_ts);
        GET DIAGNOSTICS added = ROW_COUNT;
        IF added > 0 THEN PERFORM pg_notify('twindex_outbox', ''); END IF;
      END $$;

      CREATE FUNCTION twindex_identity_value(visibility text, validity_ts double precision) RETURNS jsonb
        LANGUAGE sql IMMUTABLE AS $$ SELECT jsonb_build_object('visibility', visibility, 'validity_ts', validity_ts) $$;

      CREATE FUNCTION twindex_outbox_identities() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        wanted text := CASE TG_OP WHEN 'INSERT' THEN 'identity.created'
                                  WHEN 'DELETE' THEN 'identity.deleted' ELSE 'identity.updated' END;
        rows jsonb;
        publishers uuid[];
      BEGIN
        -- The cost for a deployment without a topic for this trigger: this probe of a small table.
        SELECT array_agg(account) INTO publishers FROM notification_topics WHERE triggers @> ARRAY[wanted];
        IF publishers IS NULL THEN RETURN NULL; END IF;
        -- For a statement of accounts without such a topic (an import of another tenant): one filtered pass over
        -- the statement's rows, stopping at the first row of a publishing account.
        IF TG_OP = 'DELETE' THEN
          IF NOT EXISTS (SELECT 1 FROM old_rows WHERE owner = ANY(publishers)) THEN RETURN NULL; END IF;
        ELSIF NOT EXISTS (SELECT 1 FROM new_rows WHERE owner = ANY(publishers)) THEN
          RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' THEN
          SELECT jsonb_agg(x) INTO rows FROM (
            SELECT n.owner AS account, wanted AS trigger, n.twin,
                   jsonb_object_agg(n.name, jsonb_build_object(
                     'new_value', twindex_identity_value(n.visibility, n.validity_ts),
                     'old_value', NULL, 'changed_ts', n.updated_ts)) AS event,
                   max(n.updated_ts) AS changed_ts
              FROM new_rows n
             WHERE n.owner = ANY(publishers)
             GROUP BY n.owner, n.twin) x;
        ELSIF TG_OP = 'DELETE' THEN
          SELECT jsonb_agg(x) INTO rows FROM (
            SELECT o.owner AS account, wanted AS trigger, o.twin,
                   jsonb_object_agg(o.name, jsonb_build_object(
                     'new_value', NULL,
                     'old_value', twindex_identity_value(o.visibility, o.validity_ts),
                     'changed_ts', extract(epoch FROM clock_timestamp())::double precision)) AS event,
                   extract(epoch FROM clock_timestamp())::double precision AS changed_ts
              FROM old_rows o
             WHERE o.owner = ANY(publishers)
             GROUP BY o.owner, o.twin) x;
        ELSE
          -- Only a changed visibility or validity is an update; a touched updated_ts alone is not.
          SELECT jsonb_agg(x) INTO rows FROM (
            SELECT n.owner AS account, wanted AS trigger, n.twin,
                   jsonb_object_agg(n.name, jsonb_build_object(
                     'new_value', twindex_identity_value(n.visibility, n.validity_ts),
                     'old_value', twindex_identity_value(o.visibility, o.validity_ts),
                     'changed_ts', n.updated_ts)) AS event,
                   max(n.updated_ts) AS changed_ts
              FROM new_rows n JOIN old_rows o USING (name, twin, owner)
             WHERE (n.visibility IS DISTINCT FROM o.visibility OR n.validity_ts IS DISTINCT FROM o.validity_ts)
               AND n.owner = ANY(publishers)
             GROUP BY n.owner, n.twin) x;
        END IF;
        IF rows IS NOT NULL THEN PERFORM twindex_outbox_append(rows); END IF;
        RETURN NULL;
      END $$;

      CREATE FUNCTION twindex_outbox_twins() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        rows jsonb;
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM notification_topics
                        WHERE triggers && ARRAY['twin.updated', 'twin.terminated']) THEN RETURN NULL; END IF;
        SELECT jsonb_agg(x) INTO rows FROM (
          SELECT n.owner AS account, 'twin.updated' AS trigger, n.uuid AS twin,
                 jsonb_build_object('description', jsonb_build_object(
                   'new_value', n.description, 'old_value', o.description, 'changed_ts', n.updated_ts)) AS event,
                 n.updated_ts AS changed_ts
            FROM new_rows n JOIN old_rows o USING (uuid)
           WHERE n.description IS DISTINCT FROM o.description
             AND n.owner IN (SELECT account FROM notification_topics WHERE triggers @> ARRAY['twin.updated'])
          UNION ALL
          SELECT n.owner, 'twin.terminated', n.uuid,
                 jsonb_build_object('termination_certificate', jsonb_build_object(
                   'issuer', n.terminator, 'terminated_ts', n.terminated_ts)),
                 coalesce(n.terminated_ts, n.updated_ts)
            FROM new_rows n JOIN old_rows o USING (uuid)
           WHERE n.status = 'terminated' AND o.status <> 'terminated'
             AND n.owner IN (SELECT account FROM notification_topics WHERE triggers @> ARRAY['twin.terminated'])) x;
        IF rows IS NOT NULL THEN PERFORM twindex_outbox_append(rows); END IF;
        RETURN NULL;
      END $$;

      CREATE TRIGGER identities_outbox_insert AFTER INSERT ON identities REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION twindex_outbox_identities();
      CREATE TRIGGER identities_outbox_update AFTER UPDATE ON identities
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION twindex_outbox_identities();
      CREATE TRIGGER identities_outbox_delete AFTER DELETE ON identities REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION twindex_outbox_identities();
      CREATE TRIGGER twins_outbox_update AFTER UPDATE ON twins
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION twindex_outbox_twins();

      -- identity.expired: identities whose validity_ts passed in (after, upto], of accounts with such a topic.
      -- Called by the worker's sweep; it is the outbox's only writer besides the triggers above.
      CREATE FUNCTION twindex_publish_expired(after double precision, upto double precision) RETURNS bigint
        LANGUAGE plpgsql AS $$
      DECLARE
        rows jsonb;
      BEGIN
        SELECT jsonb_agg(x) INTO rows FROM (
          SELECT i.owner AS account, 'identity.expired' AS trigger, i.twin,
                 jsonb_object_agg(i.name, jsonb_build_object(
                   'new_value', twindex_identity_value(i.visibility, i.validity_ts),
                   'old_value', twindex_identity_value(i.visibility, i.validity_ts),
                   'changed_ts', i.validity_ts)) AS event,
                 max(i.validity_ts) AS changed_ts
            FROM identities i
           WHERE i.owner IN (SELECT account FROM notification_topics WHERE triggers @> ARRAY['identity.expired'])
             AND i.validity_ts > after AND i.validity_ts <= upto
           GROUP BY i.owner, i.twin) x;
        IF rows IS NULL THEN RETURN 0; END IF;
        PERFORM twindex_outbox_append(rows);
        RETURN jsonb_array_length(rows);
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER IF EXISTS identities_outbox_insert ON identities;
      DROP TRIGGER IF EXISTS identities_outbox_update ON identities;
      DROP TRIGGER IF EXISTS identities_outbox_delete ON identities;
      DROP TRIGGER IF EXISTS twins_outbox_update ON twins;
      DROP FUNCTION IF EXISTS twindex_publish_expired(double precision, double precision);
      DROP FUNCTION IF EXISTS twindex_outbox_twins();
      DROP FUNCTION IF EXISTS twindex_outbox_identities();
      DROP FUNCTION IF EXISTS twindex_identity_value(text, double precision);
      DROP FUNCTION IF EXISTS twindex_outbox_append(jsonb);
      DROP INDEX IF EXISTS identities_validity_idx;
      DROP TABLE IF EXISTS sync_source_push;
      ALTER TABLE sync_sources DROP COLUMN IF EXISTS subscribe_topic;
      DROP TABLE IF EXISTS notification_state, notification_messages, notification_events,
        notification_subscriptions, notification_grants, notification_topics;
    `);
  }
}
