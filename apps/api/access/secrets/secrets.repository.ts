import { Injectable } from '@nestjs/common';
import { Db, type Queryable } from '../../../../libs/store/db.js';

export interface NewSecret {
  hash: Buffer;
  fingerprint: string;
  account: string;
  user: string;
  validity_ts: number | null;
  created_ts: number;
}

export interface SecretRow {
  fingerprint: string;
  validity_ts: number | null;
  created_ts: number;
  last_used_ts: number | null;
}

export interface PinRow {
  account: string;
  pin_hash: Buffer;
  validity_ts: number;
  failed_attempts: number;
  user_status: 'active' | 'disabled';
}

// Never selects the hash: nothing read from here can leak a secret, even to a log.
const SECRET_VIEW = `s.fingerprint, s.validity_ts, s.created_ts, u.last_used_ts`;

@Injectable()
export class SecretsRepository {
  constructor(private readonly db: Db) {}

  async insert(secret: NewSecret, q: Queryable = this.db): Promise<void> {
    await q.query(
      `INSERT INTO secrets (hash, fingerprint, account, user_uuid, validity_ts, created_ts) VALUES ($1, $2, $3, $4, $5, $6)`,
      [secret.hash, secret.fingerprint, secret.account, secret.user, secret.validity_ts, secret.created_ts],
    );
  }

  /** Scans the user's secrets through the (user_uuid, fingerprint) unique index. */
  async list(account: string, user: string): Promise<SecretRow[]> {
    return this.db.query<SecretRow>(
      `SELECT ${SECRET_VIEW} FROM secrets s LEFT JOIN secret_usage u ON u.hash = s.hash
        WHERE s.user_uuid = $1 AND s.account = $2 ORDER BY s.created_ts, s.fingerprint`,
      [user, account],
    );
  }

  async updateValidity(
    account: string,
    user: string,
    fingerprint: string,
    validityTs: number | null,
  ): Promise<SecretRow | undefined> {
    const rows = await this.db.query<SecretRow>(
      `WITH s AS (UPDATE secrets SET validity_ts = $4 WHERE user_uuid = $1 AND fingerprint = $2 AND account = $3
                  RETURNING hash, fingerprint, validity_ts, created_ts)
       SELECT ${SECRET_VIEW} FROM s LEFT JOIN secret_usage u ON u.hash = s.hash`,
      [user, fingerprint, account, validityTs],
    );
    return rows[0];
  }

  async delete(account: string, user: string, fingerprint: string): Promise<SecretRow | undefined> {
    const rows = await this.db.query<SecretRow>(
      `WITH s AS (DELETE FROM secrets WHERE user_uuid = $1 AND fingerprint = $2 AND account = $3
                  RETURNING hash, fingerprint, validity_ts, created_ts)
       SELECT ${SECRET_VIEW} FROM s LEFT JOIN secret_usage u ON u.hash = s.hash`,
      [user, fingerprint, account],
    );
    return rows[0];
  }

  /** One PIN per user: a new one replaces the previous and resets its failed tries. */
  async replacePin(account: string, user: string, pinHash: Buffer, validityTs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO secret_pins (user_uuid, account, pin_hash, validity_ts, failed_attempts) VALUES ($1, $2, $3, $4, 0)
       ON CONFLICT (user_uuid) DO UPDATE
         SET account = EXCLUDED.account, pin_hash = EXCLUDED.pin_hash, validity_ts = EXCLUDED.validity_ts, failed_attempts = 0`,
      [user, account, pinHash, validityTs],
    );
  }

  /** Locks the user's PIN row so that concurrent tries are counted one after another. */
  async lockPin(user: string, q: Queryable): Promise<PinRow | undefined> {
    const rows = await q.query<PinRow>(
      `SELECT p.account, p.pin_hash, p.validity_ts, p.failed_attempts, u.status AS user_status
         FROM secret_pins p JOIN users u ON u.uuid = p.user_uuid
        WHERE p.user_uuid = $1 FOR UPDATE OF p`,
      [user],
    );
    return rows[0];
  }

  async recordFailedPin(user: string, q: Queryable): Promise<number> {
    const rows = await q.query<{ failed_attempts: number }>(
      `UPDATE secret_pins SET failed_attempts = failed_attempts + 1 WHERE user_uuid = $1 RETURNING failed_attempts`,
      [user],
    );
    return rows[0]?.failed_attempts ?? 0;
  }

  async deletePin(user: string, q: Queryable): Promise<void> {
    await q.query(`DELETE FROM secret_pins WHERE user_uuid = $1`, [user]);
  }
}
