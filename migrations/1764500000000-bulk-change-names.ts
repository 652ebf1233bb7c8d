import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Big statements name what they changed (issue #21). Until now a statement of more than 5,000 rows told every
 * instance to flush its whole cache of that kind: one tenant re-importing a 6,000-line file in a loop took every
 * other tenant's warm names with it (hit rate 100 % → 1.4 %). Now every statement sends the keys it wrote, in
 * messages of at most ~7,000 bytes of keys (pg_notify's payload limit is 8,000 bytes), built set-based in one query
 * instead of a PL/pgSQL loop:
 *
 * - an insert or a delete sends its rows' keys as they are: a key repeats only when one statement writes it on several
 *   twins or for several owners, and deduplicating (a hash aggregate) cost more than the repeats (100,000 rows:
 *   45–136 ms to deduplicate against 59–98 ms to chunk and send everything);
 * - an update sends the keys of its old and new rows, deduplicated up to 50,000 rows (otherwise nearly every key would
 *   go twice), as they are beyond that, where deduplicating would need more than work_mem; a key sent twice is
 *   evicted twice, which is harmless.
 *
 * No statement flushes any cache wholesale any more. A per-account message ("account X changed something") was
 * considered for the big case and rejected: a cache entry holds every account's rows of a name, so a row X inserts
 * under a name cached with only Y's rows, or cached as "nothing there", would be missed by evicting X's entries.
 */
export class BulkChangeNames1764500000000 implements MigrationInterface {
  name = 'BulkChangeNames1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION twindex_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        head text := TG_ARGV[0] || '|' || (extract(epoch FROM clock_timestamp()) * 1000)::bigint || '|';
        keys text;
        many boolean;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          keys := format('SELECT %I::text AS k FROM new_rows', TG_ARGV[1]);
        ELSIF TG_OP = 'DELETE' THEN
          keys := format('SELECT %I::text AS k FROM old_rows', TG_ARGV[1]);
        ELSE
          keys := format('SELECT %I::text AS k FROM new_rows UNION ALL SELECT %I::text FROM old_rows',
                         TG_ARGV[1], TG_ARGV[1]);
          SELECT count(*) > 50000 INTO many FROM (SELECT 1 FROM new_rows LIMIT 50001) s;
          IF NOT many THEN
            keys := 'SELECT k FROM (' || keys || ') d GROUP BY k';
          END IF;
        END IF;
        -- A running byte count numbers the chunks: chunk n holds the keys whose end falls in [7000n, 7000(n+1)),
        -- so at most 7,000 bytes plus one key (≤ 160) plus the head. No ORDER BY: the scan order is fine, no sort.
        EXECUTE format(
          'SELECT pg_notify(''twindex_changes'', %L || string_agg(k, '','')) '
          'FROM (SELECT k, sum(octet_length(k) + 1) OVER (ROWS UNBOUNDED PRECEDING) / 7000 AS chunk '
          '      FROM (%s) s) c GROUP BY chunk',
          head, keys);
        RETURN NULL;
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // The bulk-change-notify migration's function: more than 5,000 rows flush.
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
}
