import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Change notifications of big statements (issue 13). A statement of more than 5,000 keys already sends one flush
 * (`kind|sent_ms|*`), but the trigger first collected and sorted every distinct key to learn that: for a 100k-row
 * import batch, `array_agg(DISTINCT name)` took 0.14–0.37 s of a 3 s batch (EXPLAIN ANALYZE, "Trigger
 * identities_notify_insert"). Now the transition table's rows are counted first (stopping at 5,001): more than
 * 5,000 rows flush at once. A statement of many rows but few distinct keys now flushes where it used to list
 * them; a flush evicts more, never less, so caches stay coherent.
 */
export class BulkChangeNotify1764310000000 implements MigrationInterface {
  name = 'BulkChangeNotify1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION twindex_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        keys text[];
        many boolean;
      BEGIN
        IF TG_OP = 'DELETE' THEN
          SELECT count(*) > 5000 INTO many FROM (SELECT 1 FROM old_rows LIMIT 5001) s;
        ELSE
          SELECT count(*) > 5000 INTO many FROM (SELECT 1 FROM new_rows LIMIT 5001) s;
        END IF;
        IF many THEN
          -- The same message twindex_notify_keys sends for more than 5,000 keys.
          PERFORM pg_notify('twindex_changes',
                            TG_ARGV[0] || '|' || (extract(epoch FROM clock_timestamp()) * 1000)::bigint || '|*');
          RETURN NULL;
        END IF;
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION twindex_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
  }
}
