import pg from 'pg';

export const BENCH_OPERATOR_KEY = 'bench-operator-key-0123456789abcdef01234567';

export interface Seeded {
  secret: string;
  account: string;
  names: (i: number) => string;
  count: number;
}

/** Names are `RFID#bench-<i>`, one twin per identity, owned by the bench account. */
export const nameOf = (i: number) => `RFID#bench-${i}`;

/** Creates the bench account through the API and bulk-loads `count` identities with plain SQL (fast, set-based). */
export async function seed(apiUrl: string, databaseUrl: string, count: number): Promise<Seeded> {
  const res = await fetch(`${apiUrl}/accounts`, {
    method: 'POST',
    headers: { authorization: BENCH_OPERATOR_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench' }),
  });
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${await res.text()}`);
  const created = (await res.json()) as { account: { uuid: string }; user: { uuid: string }; secret: string };
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const account = created.account.uuid;
    const user = created.user.uuid;
    await client.query(
      `INSERT INTO twins (uuid, owner, status, description, creator, created_ts, updated_ts)
       SELECT (lpad(to_hex(g), 8, '0') || '-0000-4000-8000-000000000000')::uuid, $1, 'alive', '{}', $2, g, g
         FROM generate_series(1, $3) AS g`,
      [account, user, count],
    );
    await client.query(
      `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
       SELECT 'RFID#bench-' || g, (lpad(to_hex(g), 8, '0') || '-0000-4000-8000-000000000000')::uuid, $1, NULL, NULL, g, g, $2
         FROM generate_series(1, $3) AS g`,
      [account, user, count],
    );
    await client.query('ANALYZE twins; ANALYZE identities');
  } finally {
    await client.end();
  }
  return { secret: created.secret, account: created.account.uuid, names: nameOf, count };
}
