import { Injectable } from '@nestjs/common';
import type { Queryable } from '../store/db.js';

/** notification_grants: which other accounts may subscribe to which topics; written by the access API only. */
@Injectable()
export class GrantsRepository {
  async list(q: Queryable, account: string): Promise<Array<{ grantee: string; topics: string[] }>> {
    return q.query('SELECT grantee, topics FROM notification_grants WHERE account = $1 ORDER BY grantee', [
      account,
    ]);
  }

  /** `[]` removes the grant. */
  async set(q: Queryable, account: string, grantee: string, topics: string[], now: number): Promise<void> {
    if (topics.length === 0) {
      await q.query('DELETE FROM notification_grants WHERE account = $1 AND grantee = $2', [
        account,
        grantee,
      ]);
      return;
    }
    await q.query(
      `INSERT INTO notification_grants (account, grantee, topics, updated_ts) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account, grantee) DO UPDATE SET topics = excluded.topics, updated_ts = excluded.updated_ts`,
      [account, grantee, topics, now],
    );
  }

  async grants(q: Queryable, account: string, grantee: string, topic: string): Promise<boolean> {
    const rows = await q.query(
      'SELECT 1 FROM notification_grants WHERE account = $1 AND grantee = $2 AND $3 = ANY(topics)',
      [account, grantee, topic],
    );
    return rows.length > 0;
  }
}
