import { Injectable } from '@nestjs/common';
import { AuthService } from '../../../../libs/access/auth.service.js';
import {
  fingerprintOf,
  generatePin,
  generateSecret,
  hashSecret,
} from '../../../../libs/access/secret-token.js';
import {
  checkPin,
  hashPin,
  PIN_MAX_FAILED_ATTEMPTS,
  PIN_VALIDITY_SECONDS,
} from '../../../../libs/access/secret-pin.js';
import { notFound, unauthorized } from '../../../../libs/domain/errors.js';
import { normalizeUuid } from '../../../../libs/domain/identity/uuid.js';
import { Db, type Queryable } from '../../../../libs/store/db.js';
import { UsersRepository } from '../users/users.repository.js';
import type { ExchangePinInput } from './secret-body.js';
import { secretView, type SecretView } from './secret-view.js';
import { SecretsRepository } from './secrets.repository.js';
import { nowSeconds } from '../../../../libs/store/clock.js';

export interface IssuedSecret {
  secret: string;
  fingerprint: string;
  validity_ts: number | null;
}

/** One answer for every failed exchange, so that it tells nothing about users, accounts or PINs. */
const refused = () => unauthorized('Unknown user, or wrong, expired or used PIN');

@Injectable()
export class SecretsService {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretsRepository,
    private readonly users: UsersRepository,
    private readonly auth: AuthService,
  ) {}

  /** Creates a secret for a user; the caller shows it once and forgets it. Used by account creation and the PIN flow. */
  async issue(account: string, user: string, validityTs: number | null, q: Queryable): Promise<IssuedSecret> {
    const secret = generateSecret();
    const fingerprint = fingerprintOf(secret);
    await this.secrets.insert(
      {
        hash: hashSecret(secret),
        fingerprint,
        account,
        user,
        validity_ts: validityTs,
        created_ts: nowSeconds(),
      },
      q,
    );
    return { secret, fingerprint, validity_ts: validityTs };
  }

  async createPin(account: string, user: string): Promise<{ pin: string; validity_ts: number }> {
    await this.assertUser(account, user);
    const pin = generatePin();
    const validityTs = Math.round(Date.now() + PIN_VALIDITY_SECONDS * 1000) / 1000;
    await this.secrets.replacePin(account, user, hashPin(user, pin), validityTs);
    return { pin, validity_ts: validityTs };
  }

  /**
   * The public half of the PIN flow. Single use: a matching PIN is deleted in the same transaction that stores
   * the secret. A wrong PIN (or one presented with the wrong account) counts a try, and the fifth burns it.
   * Tries are committed even though the answer is a 401, so the outcome is decided inside and thrown outside.
   */
  async exchangePin(input: ExchangePinInput): Promise<IssuedSecret> {
    const account = normalizeUuid(input.account);
    const user = normalizeUuid(input.user);
    if (account === null || user === null) throw refused();
    const issued = await this.db.transaction(async (tx): Promise<IssuedSecret | null> => {
      const row = await this.secrets.lockPin(user, tx);
      if (!row) return null;
      const check = row.account === account ? checkPin(row, user, input.pin, nowSeconds()) : 'wrong';
      if (check === 'wrong') {
        const failed = await this.secrets.recordFailedPin(user, tx);
        if (failed >= PIN_MAX_FAILED_ATTEMPTS) await this.secrets.deletePin(user, tx);
        return null;
      }
      // Expired or burnt PINs are cleared on sight; a disabled user cannot obtain a secret.
      await this.secrets.deletePin(user, tx);
      if (check !== 'ok' || row.user_status !== 'active') return null;
      return this.issue(account, user, null, tx);
    });
    if (!issued) throw refused();
    return issued;
  }

  async list(account: string, user: string): Promise<SecretView[]> {
    await this.assertUser(account, user);
    return (await this.secrets.list(account, user)).map(secretView);
  }

  async updateValidity(
    account: string,
    user: string,
    fingerprint: string,
    validityTs: number | null,
  ): Promise<SecretView> {
    const row = await this.secrets.updateValidity(account, user, fingerprint, validityTs);
    if (!row) throw notFound('Secret');
    this.auth.invalidateAccount(account);
    return secretView(row);
  }

  async delete(account: string, user: string, fingerprint: string): Promise<SecretView> {
    const row = await this.secrets.delete(account, user, fingerprint);
    if (!row) throw notFound('Secret');
    this.auth.invalidateAccount(account);
    return secretView(row);
  }

  private async assertUser(account: string, user: string): Promise<void> {
    if (!(await this.users.find(account, user))) throw notFound('User');
  }
}
