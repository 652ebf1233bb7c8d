import { Injectable } from '@nestjs/common';
import { checkPin, generatePin, hashPin, PIN_PATTERN, PIN_VALIDITY_SECONDS } from '../secret-pin.js';
import { fingerprintOf, generateSecret, hashSecret } from '../secret-token.js';
import { assertMayHandOut, effectiveActions } from '../../domain/access/escalation-check.js';
import { notFound, unauthorized } from '../../domain/errors.js';
import { normalizeUuid } from '../../domain/identity/uuid.js';
import { Db, type Queryable } from '../../store/db.js';
import { nowSeconds } from '../../clock/clock.js';
import { HeldActionsRepository } from '../held-actions.repository.js';
import { UsersRepository } from '../users/users.repository.js';
import { type SecretRow, SecretsRepository } from './secrets.repository.js';

/** A secret just created: the secret itself is shown once (`create_user_secret` answers this shape) and never stored. */
export interface IssuedSecret {
  account: string;
  user: string;
  secret: string;
  fingerprint: string;
  validity_ts: number | null;
  created_ts: number;
  updated_ts: number;
}

export interface CreatedPin {
  pin: string;
  pin_validity_ts: number;
}

/** One answer for every failed redemption, so that it tells nothing about users, accounts or PINs. */
const refused = () => unauthorized('Unknown account, or wrong, expired or used PIN');
/** A PIN never collides in practice (36^6 values); this only bounds the loop. */
const PIN_DRAWS = 5;
const NIL_ACCOUNT = '00000000-0000-0000-0000-000000000000';

@Injectable()
export class SecretsService {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretsRepository,
    private readonly users: UsersRepository,
    private readonly heldActions: HeldActionsRepository,
  ) {}

  /** Creates a secret for a user; the caller shows it once and forgets it. Used by account creation and the PIN flow. */
  async issue(account: string, user: string, validityTs: number | null, q: Queryable): Promise<IssuedSecret> {
    const secret = generateSecret();
    const fingerprint = fingerprintOf(secret);
    const now = nowSeconds();
    await this.secrets.insert(
      { hash: hashSecret(secret), fingerprint, account, user, validity_ts: validityTs, created_ts: now },
      q,
    );
    return { account, user, secret, fingerprint, validity_ts: validityTs, created_ts: now, updated_ts: now };
  }

  /**
   * `create_user_secret_pin`: replaces the user's previous PIN; `secretValidityTs` is the future secret's expiry.
   * `held`: the caller's effective actions. Whoever holds the PIN becomes the user, so it may not exceed them.
   */
  async createPin(
    account: string,
    user: string,
    held: ReadonlySet<string>,
    secretValidityTs: number | null,
  ): Promise<CreatedPin> {
    await this.assertUser(account, user);
    await this.assertMayBecome(account, user, held);
    const pinValidityTs = Math.round((nowSeconds() + PIN_VALIDITY_SECONDS) * 1000) / 1000;
    for (let draw = 0; draw < PIN_DRAWS; draw++) {
      const pin = generatePin();
      if (
        await this.secrets.replacePin(account, user, hashPin(account, pin), pinValidityTs, secretValidityTs)
      ) {
        return { pin, pin_validity_ts: pinValidityTs };
      }
    }
    throw new Error('no free PIN after several draws');
  }

  /** No privilege escalation through PINs: the caller must hold every action the user holds (role + permissions). */
  async assertMayBecome(account: string, user: string, held: ReadonlySet<string>): Promise<void> {
    const target = await this.heldActions.heldByUser(account, user);
    if (!target) throw notFound('User');
    assertMayHandOut(
      held,
      effectiveActions(target.statement, [target.permissionOperations]),
      'a PIN for this user',
    );
  }

  /**
   * `create_user_secret` (public): the PIN names its user. Single use — a matching PIN is deleted in the same
   * transaction that stores the secret. A PIN that matches nothing counts a wrong try against every live PIN of the
   * account; the fifth burns them. Every failure is the same 401, and every path hashes and queries once, so
   * failures also take the same time. This is the one place a PIN is redeemed: rate limiting hooks in here.
   * `expectedUser` serves the first Twindex form, which also named the user: a mismatch is a wrong try.
   */
  async redeemPin(accountText: string, pin: string, expectedUser?: string | null): Promise<IssuedSecret> {
    const account = normalizeUuid(accountText);
    const wellFormed = account !== null && PIN_PATTERN.test(pin) && expectedUser !== null;
    const pinHash = hashPin(account ?? NIL_ACCOUNT, pin);
    if (!wellFormed) {
      if (account !== null) await this.db.transaction((tx) => this.secrets.recordFailedPin(account, tx));
      throw refused();
    }
    const issued = await this.db.transaction(async (tx): Promise<IssuedSecret | null> => {
      const row = await this.secrets.lockPin(account, pinHash, tx);
      if (!row || (expectedUser !== undefined && row.user_uuid !== expectedUser)) {
        await this.secrets.recordFailedPin(account, tx);
        return null;
      }
      // Used, expired or burnt PINs are cleared on sight; a disabled user cannot obtain a secret.
      await this.secrets.deletePin(row.user_uuid, tx);
      if (checkPin(row, nowSeconds()) !== 'ok' || row.user_status !== 'active') return null;
      return this.issue(account, row.user_uuid, row.secret_validity_ts, tx);
    });
    if (!issued) throw refused();
    return issued;
  }

  /** The user's secrets, newest first and never none: 404 when the user has no secret. */
  async getAll(account: string, user: string): Promise<SecretRow[]> {
    await this.assertUser(account, user);
    return some(await this.secrets.list(account, user));
  }

  /** Sets the expiry of every secret of the user; answers them, newest first (404 when there were none). */
  async updateAllValidity(account: string, user: string, validityTs: number | null): Promise<SecretRow[]> {
    return some(await this.secrets.updateValidity(account, user, null, validityTs));
  }

  /** Revokes every secret of the user; answers what was revoked, newest first (404 when there was none). */
  async deleteAll(account: string, user: string): Promise<SecretRow[]> {
    return some(await this.secrets.delete(account, user, null));
  }

  async updateValidity(
    account: string,
    user: string,
    fingerprint: string,
    validityTs: number | null,
  ): Promise<SecretRow> {
    const [row] = await this.secrets.updateValidity(account, user, fingerprint, validityTs);
    if (!row) throw notFound('Secret');
    return row;
  }

  async delete(account: string, user: string, fingerprint: string): Promise<SecretRow> {
    const [row] = await this.secrets.delete(account, user, fingerprint);
    if (!row) throw notFound('Secret');
    return row;
  }

  private async assertUser(account: string, user: string): Promise<void> {
    if (!(await this.users.find(account, user))) throw notFound('User');
  }
}

function some(rows: SecretRow[]): SecretRow[] {
  if (rows.length === 0) throw notFound('Secret');
  return rows;
}
