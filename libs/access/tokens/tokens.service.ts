import { Injectable } from '@nestjs/common';
import { AuthService } from '../auth.service.js';
import type { Principal } from '../principal.js';
import type { TokenOption } from '../user-token.js';
import { badRequest, forbidden } from '../../domain/errors.js';
import { childExpiryCap, optionsBeyondParent } from '../../domain/access/token-lineage.js';

/** `secret_dict` is at most 4 KiB of JSON (its keys are checked with the request body). */
export const SECRET_DICT_MAX_BYTES = 4096;

/** A token asked for: DICT values to sign into it, its options, its expiry (default and caps below). */
export interface CreateTokenInput {
  secret_dict?: Record<string, unknown>;
  options?: TokenOption[] | null;
  validity_ts?: number | null;
}

/** docs/access.md: a token lives an hour unless asked otherwise, and never more than a day. */
const DEFAULT_LIFETIME_S = 3600;
const MAX_LIFETIME_S = 24 * 3600;

export interface CreatedToken {
  token: string;
  options: TokenOption[];
  validity_ts: number;
}

@Injectable()
export class TokensService {
  constructor(private readonly auth: AuthService) {}

  /**
   * `create_user_token`: a token for the caller's own user. Minted from a token, it needs that token's `create`
   * option, keeps its ancestor secret (so revoking the secret ends the whole family) and its signed `secret_dict`
   * values: a token may add keys to DICT but never overwrite what its minter signed. It may hand down only options
   * it holds and never lives past its minter (token-lineage.ts), so a token without `refresh` never leads to one
   * that refreshes.
   */
  async create(caller: Principal, input: CreateTokenInput, nowS: number): Promise<CreatedToken> {
    if (caller.token && !caller.token.options.includes('create')) {
      throw forbidden("This token was minted without the 'create' option");
    }
    const options = [...new Set(input.options ?? [])];
    const beyond = optionsBeyondParent(caller.token, options);
    if (beyond.length > 0) {
      throw forbidden(
        `This token cannot mint a token with the option '${beyond.join("', '")}' it does not hold`,
      );
    }
    const dict = { ...(input.secret_dict ?? {}), ...(caller.token?.secretDict ?? {}) };
    if (Buffer.byteLength(JSON.stringify(dict)) > SECRET_DICT_MAX_BYTES) {
      throw badRequest('invalid_body', `secret_dict: at most ${SECRET_DICT_MAX_BYTES} bytes of JSON`);
    }
    const validityTs = this.validity(caller, input.validity_ts, nowS);
    const token = await this.auth.signUserToken({
      account: caller.account,
      user: caller.user,
      fingerprint: caller.fingerprint,
      options,
      secretDict: dict,
      validityTs,
    });
    return { token, options, validity_ts: validityTs };
  }

  /** `refresh_user_token`: a new token with the same `secret_dict` and `options`, for a token holding `refresh`. */
  async refresh(
    caller: Principal,
    requested: number | null | undefined,
    nowS: number,
  ): Promise<Omit<CreatedToken, 'options'>> {
    if (!caller.token) throw forbidden('Only a user token can be refreshed; send the token, not a secret');
    if (!caller.token.options.includes('refresh')) {
      throw forbidden("This token was minted without the 'refresh' option");
    }
    // The refreshed token's cap is the minting secret's expiry, not the old token's: that is what refreshing is for.
    const validityTs = this.validity({ ...caller, token: undefined }, requested, nowS);
    const token = await this.auth.signUserToken({
      account: caller.account,
      user: caller.user,
      fingerprint: caller.fingerprint,
      options: [...caller.token.options],
      secretDict: { ...caller.token.secretDict },
      validityTs,
    });
    return { token, validity_ts: validityTs };
  }

  /** Default now + 1 h; capped at now + 24 h and at the minting credential's own expiry; a past time is refused. */
  private validity(caller: Principal, requested: number | null | undefined, nowS: number): number {
    if (requested != null && requested <= nowS) {
      throw badRequest('invalid_validity', 'validity_ts must be in the future');
    }
    const caps = [nowS + MAX_LIFETIME_S];
    if (caller.secretValidityTs !== null) caps.push(caller.secretValidityTs);
    const parentEnd = childExpiryCap(caller.token);
    if (parentEnd !== null) caps.push(parentEnd);
    return Math.round(Math.min(requested ?? nowS + DEFAULT_LIFETIME_S, ...caps) * 1000) / 1000;
  }
}
