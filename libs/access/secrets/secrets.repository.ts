import { Injectable } from '@nestjs/common';
import { PIN_MAX_FAILED_ATTEMPTS } from '../secret-pin.js';
import { Db, type Queryable } from '../../store/db.js';
import { nowSeconds } from '../../clock/clock.js';
import { CommittedChanges } from '../../store/committed-changes.js';

export interface NewSecret {
  hash: Buffer;
  fingerprint: string;
  account: string;
  user: string;
  validity_ts: number | null;
  created_ts: number;
}

export interface SecretRow {
  account: string;
  user: string;
  fingerprint: string;
  validity_ts: number | null;
  created_ts: number;
  updated_ts: number;
  last_used_ts: number | null;
}

export interface PinRow {
  user_uuid: string;
  validity_ts: number;
  secret_validity_ts: number | null;
  failed_attempts: number;
  user_status: 'active' | 'disabled';
}

// Never selects the hash: nothing read from here can leak a secret, even to a log.
const SECRET_VIEW = `s.account, s.user_uuid AS user, s.fingerprint, s.validity_ts, s.created_ts,
  COALESCE(s.updated_ts, s.created_ts) AS updated_ts, u.last_used_ts`;
const RETURNED = 'hash, account, user_uuid, fingerprint, validity_ts, created_ts, updated_ts';
// PostgreSQL unique_violation: the PIN drawn is already live in this account.
const UNIQUE_VIOLATION = '23505';

/**
 * The one writer of secrets and secret_pins. A secret's expiry (or its existence) is part of the cached principal,
 * so changing or deleting secrets evicts the account's principals once done; a new secret or PIN is in no cache.
 */
@Injectable()
export class SecretsRepository {
  constructor(
    private readonly db: Db,
    private readonly changes: CommittedChanges,
  ) {}

  async insert(secret: NewSecret, q: Queryable = this.db): Promise<void> {
    await q.query(
      `INSERT INTO secrets (hash, fingerprint, account, user_uuid, validity_ts, created_ts, updated_ts)
       VALUES ($1, $2, $3, $4, $5, $6, $6)`,
      [secret.hash, secret.fingerprint, secret.account, secret.user, secret.validity_ts, secret.created_ts],
    );
  }

  /** The user's secrets, newest first, through the (user_uuid, fingerprint) unique index. */
  async list(account: string, user: string): Promise<SecretRow[]> {
    return this.db.query<SecretRow>(
      `SELECT ${SECRET_VIEW} FROM secrets s LEFT JOIN secret_usage u ON u.hash = s.hash
        WHERE s.user_uuid = $1 AND s.account = $2 ORDER BY s.created_ts DESC, s.fingerprint`,
      [user, account],
    );
  }

  /** One secret (fingerprint given) or all of the user's (null). */
  async updateValidity(
    account: string,
    user: string,
    fingerprint: string | null,
    validityTs: number | null,
  ): Promise<SecretRow[]> {
    const rows = await this.db.query<SecretRow>(
      `WITH s AS (UPDATE secrets SET validity_ts = $4, updated_ts = $5
                   WHERE user_uuid = $1 AND ($2::text IS NULL OR fingerprint = $2) AND account = $3
                  RETURNING ${RETURNED})
       SELECT ${SECRET_VIEW} FROM s LEFT JOIN secret_usage u ON u.hash = s.hash
        ORDER BY s.created_ts DESC, s.fingerprint`,
      [user, fingerprint, account, validityTs, nowSeconds()],
    );
    this.changes.changedNow('accounts', [account]);
    return rows;
  }

  /** One secret (fingerprint given) or all of the user's (null); answers what was deleted, newest first. */
  async delete(account: string, user: string, fingerprint: string | null): Promise<SecretRow[]> {
    const rows = await this.db.query<SecretRow>(
      `WITH s AS (DELETE FROM secrets
                   WHERE user_uuid = $1 AND ($2::text IS NULL OR fingerprint = $2) AND account = $3
                  RETURNING ${RETURNED})
       SELECT ${SECRET_VIEW} FROM s LEFT JOIN secret_usage u ON u.hash = s.hash
        ORDER BY s.created_ts DESC, s.fingerprint`,
      [user, fingerprint, account],
    );
    this.changes.changedNow('accounts', [account]);
    return rows;
  }

  /**
   * One live PIN per user: a new one replaces the user's previous PIN; the account's expired PINs go too, so a
   * new PIN only has to be unique among live ones. False when the PIN is already live in the account (draw again).
   */
  async replacePin(
    account: string,
    user: string,
    pinHash: Buffer,
    validityTs: number,
    secretValidityTs: number | null,
  ): Promise<boolean> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.query(
          `DELETE FROM secret_pins WHERE user_uuid = $1 OR (account = $2 AND validity_ts <= $3)`,
          [user, account, nowSeconds()],
        );
        await tx.query(
          `INSERT INTO secret_pins (user_uuid, account, pin_hash, validity_ts, failed_attempts, secret_validity_ts)
           VALUES ($1, $2, $3, $4, 0, $5)`,
          [user, account, pinHash, validityTs, secretValidityTs],
        );
      });
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === UNIQUE_VIOLATION) return false;
      throw e;
    }
  }

  /** Locks the PIN row (secret_pins_account_pin_idx) so that a PIN is redeemed once, whoever races for it. */
  async lockPin(account: string, pinHash: Buffer, q: Queryable): Promise<PinRow | undefined> {
    const rows = await q.query<PinRow>(
      `SELECT p.user_uuid, p.validity_ts, p.secret_validity_ts, p.failed_attempts, u.status AS user_status
         FROM secret_pins p JOIN users u ON u.uuid = p.user_uuid
        WHERE p.account = $1 AND p.pin_hash = $2 FOR UPDATE OF p`,
      [account, pinHash],
    );
    return rows[0];
  }

  /** A wrong PIN counts against every live PIN of the account it was tried for; the fifth burns them. */
  async recordFailedPin(account: string, q: Queryable): Promise<void> {
    await q.query(`UPDATE secret_pins SET failed_attempts = failed_attempts + 1 WHERE account = $1`, [
      account,
    ]);
    await q.query(`DELETE FROM secret_pins WHERE account = $1 AND failed_attempts >= $2`, [
      account,
      PIN_MAX_FAILED_ATTEMPTS,
    ]);
  }

  async deletePin(user: string, q: Queryable): Promise<void> {
    await q.query(`DELETE FROM secret_pins WHERE user_uuid = $1`, [user]);
  }
}
