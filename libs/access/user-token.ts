import { hkdfSync } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

/** docs/access.md "User tokens": a token's options; `create` lets it mint tokens, `refresh` lets it be refreshed. */
export type TokenOption = 'create' | 'refresh';

/** What a user token carries, signed: who it acts as, the secret it descends from, and its DICT values. */
export interface UserTokenClaims {
  account: string;
  user: string;
  /** Fingerprint of the secret the token (or its ancestor) was minted from: revoking that secret ends it. */
  fingerprint: string;
  options: TokenOption[];
  secretDict: Record<string, unknown>;
  /** Expiry in seconds since the epoch, to the millisecond (JWT `exp` is whole seconds, rounded up). */
  validityTs: number;
}

const ISSUER = 'twindex';
const AUDIENCE = 'twindex-user-token';
/** A signed JWS in compact form always starts with the base64url of `{"`; secrets start with `twx_`. */
export const looksLikeUserToken = (credential: string): boolean => credential.startsWith('eyJ');

/**
 * Signs and checks user tokens: HS256 JWTs (the `jose` library) under a key derived with HKDF-SHA256 from
 * TWINDEX_SECRET_KEY, so a token is checked without a database round trip and never stored.
 */
export class UserTokenCodec {
  private readonly key: Uint8Array;

  constructor(secretKey: string) {
    this.key = new Uint8Array(hkdfSync('sha256', secretKey, 'twindex', 'user-token-v1', 32));
  }

  sign(claims: UserTokenClaims): Promise<string> {
    return new SignJWT({
      acc: claims.account,
      sfp: claims.fingerprint,
      opt: claims.options,
      dct: claims.secretDict,
      vts: claims.validityTs,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.user)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.ceil(claims.validityTs))
      .sign(this.key);
  }

  /** Rejects (any error) unless the signature, issuer, audience and expiry hold and the claims have our shape. */
  async verify(token: string, nowMs: number): Promise<UserTokenClaims> {
    const { payload } = await jwtVerify(token, this.key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: new Date(nowMs),
    });
    const { sub, acc, sfp, opt, dct, vts } = payload as Record<string, unknown>;
    if (
      typeof sub !== 'string' ||
      typeof acc !== 'string' ||
      typeof sfp !== 'string' ||
      typeof vts !== 'number' ||
      !Array.isArray(opt) ||
      !opt.every((o) => o === 'create' || o === 'refresh') ||
      dct === null ||
      typeof dct !== 'object' ||
      Array.isArray(dct)
    ) {
      throw new Error('malformed token claims');
    }
    if (vts * 1000 <= nowMs) throw new Error('token expired');
    return {
      account: acc,
      user: sub,
      fingerprint: sfp,
      options: opt as TokenOption[],
      secretDict: dct as Record<string, unknown>,
      validityTs: vts,
    };
  }
}
