import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ChangeFeed } from '../cache/change-feed.js';
import { CoherentCache } from '../cache/coherent-cache.js';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { allowedActions } from '../domain/access/permission-evaluation.js';
import { forbidden, TwindexError, unauthorized } from '../domain/errors.js';
import { storedRule } from '../domain/rules/index.js';
import { type TwinSharing, twinRuleUnderSharing } from '../domain/visibility/twin-sharing.js';
import { AbuseLimiter } from '../admission/abuse-limiter.js';
import { type Principal } from './principal.js';
import { PrincipalRepository, type PrincipalRow } from './principal.repository.js';
import { isWellFormedSecret, SECRET_LENGTH, secretFromHeader, secretHashHex } from './secret-token.js';
import { looksLikeUserToken, type UserTokenClaims, UserTokenCodec } from './user-token.js';
import { nowSeconds } from '../clock/clock.js';
import { CommittedChanges } from '../store/committed-changes.js';

const TOUCH_EVERY_MS = 60_000;
const EMPTY_DICT: Record<string, unknown> = Object.freeze({});

/**
 * Turns an Authorization header into a Principal and checks actions against it.
 * Warm keys cost no database round trip: principals are cached by secret hash and evicted, on every instance,
 * when the account's access data changes (change feed kind `a`).
 */
@Injectable()
export class AuthService implements OnModuleInit, OnApplicationShutdown {
  private readonly cache: CoherentCache<Principal & { hashHex: string }>;
  private readonly lastTouched = new Map<string, number>();
  private readonly pendingTouches = new Map<string, Buffer>();
  private touchTimer: NodeJS.Timeout | undefined;
  private readonly twinSharing: TwinSharing;
  /** Absent without TWINDEX_SECRET_KEY: then no token verifies and none can be minted. */
  private readonly tokens: UserTokenCodec | undefined;

  constructor(
    @Inject(CONFIG) config: TwindexConfig,
    private readonly repo: PrincipalRepository,
    private readonly feed: ChangeFeed,
    private readonly limiter: AbuseLimiter,
    private readonly changes: CommittedChanges,
  ) {
    this.twinSharing = config.TWIN_SHARING;
    this.tokens = config.TWINDEX_SECRET_KEY ? new UserTokenCodec(config.TWINDEX_SECRET_KEY) : undefined;
    this.cache = new CoherentCache({
      maxEntries: config.PRINCIPAL_CACHE_MAX_ENTRIES,
      maxBytes: config.PRINCIPAL_CACHE_MAX_ENTRIES * 4096,
      ttlMs: config.PRINCIPAL_CACHE_TTL_MS,
      sizeOf: () => 2048,
    });
  }

  onModuleInit(): void {
    // This process's own access writes, heard before they are answered; other processes' through the feed below.
    this.changes.listen('accounts', (accounts) => accounts.forEach((a) => this.invalidateAccount(a)));
    this.feed.subscribe('a', {
      onChange: (m) => {
        if (m.keys === 'all') return this.cache.invalidateAll();
        const accounts = new Set(m.keys);
        this.cache.invalidateWhere((p) => accounts.has(p.account));
      },
      onTrust: (trusted) => this.cache.setTrusted(trusted),
    });
    this.touchTimer = setInterval(() => void this.flushTouches(), 5000);
    this.touchTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.touchTimer) clearInterval(this.touchTimer);
    await this.flushTouches().catch(() => undefined);
  }

  get stats() {
    return this.cache.snapshot;
  }

  /** Synchronous when the key is cached, so the hot path pays no promise for auth. */
  authenticate(header: string | undefined, nowMs = Date.now()): Principal | Promise<Principal> {
    const secret = secretFromHeader(header);
    if (secret && looksLikeUserToken(secret)) return this.authenticateToken(secret, nowMs);
    if (!secret || secret.length !== SECRET_LENGTH) throw unauthorized();
    const key = secretHashHex(secret);
    // The checksum only spares the database a lookup, so it is checked on a miss, not on every warm request.
    const found = this.cache.get(
      key,
      () => (isWellFormedSecret(secret) ? this.load(key) : Promise.reject(unauthorized())),
      nowMs,
    );
    return found instanceof Promise ? found.then((p) => this.admit(p, nowMs)) : this.admit(found, nowMs);
  }

  /**
   * The account of an API key whose caller is cached and valid now, else undefined: no load, no token verification,
   * no error, no touch.
   * For checks that may run before authentication proper (the resolve share's refusal before a body is read) and
   * must cost nothing when they cannot answer.
   */
  cachedAccount(header: string | undefined, nowMs = Date.now()): string | undefined {
    const secret = secretFromHeader(header);
    if (!secret || secret.length !== SECRET_LENGTH || looksLikeUserToken(secret)) return undefined;
    const p = this.cache.peek(secretHashHex(secret), nowMs);
    // An expired secret is for the guard to refuse (401), not for a check that runs before it.
    return p === undefined || secretExpired(p, nowMs) ? undefined : p.account;
  }

  /**
   * The credential checked again, from the database rather than the cache, and `action` authorised: for a long
   * request (an import body) whose permission must still hold when it ends, not only when it began. A secret
   * revoked, a user disabled or deleted, or a role changed meanwhile answers exactly as the first check would have.
   */
  async reauthorize(header: string | undefined, action: string, nowMs = Date.now()): Promise<Principal> {
    const secret = secretFromHeader(header);
    let principal: Principal;
    if (secret && looksLikeUserToken(secret)) {
      const claims = await this.verifyToken(secret, nowMs);
      principal = await this.loadByFingerprint(claims.user, claims.fingerprint, '');
      if (principal.account !== claims.account) throw unauthorized();
    } else {
      if (!secret || secret.length !== SECRET_LENGTH || !isWellFormedSecret(secret)) throw unauthorized();
      principal = await this.load(secretHashHex(secret));
    }
    if (secretExpired(principal, nowMs)) throw unauthorized();
    this.authorize(principal, action);
    return principal;
  }

  /** Signs a user token; 503 when TWINDEX_SECRET_KEY is not configured. */
  signUserToken(claims: UserTokenClaims): Promise<string> {
    if (!this.tokens) {
      throw new TwindexError(
        'unavailable',
        'tokens_not_configured',
        'TWINDEX_SECRET_KEY is not set: user tokens are unavailable',
      );
    }
    return this.tokens.sign(claims);
  }

  /**
   * A user token is checked by its signature alone; the state it depends on — the user (active, role, permissions)
   * and the secret it descends from — is the principal of that secret, cached and evicted like any other, keyed by
   * (user, fingerprint). Disabling or deleting the user or revoking the secret therefore ends the token within the
   * cache bound, with no database round trip while nothing changed.
   */
  private async authenticateToken(token: string, nowMs: number): Promise<Principal> {
    const claims = await this.verifyToken(token, nowMs);
    const key = `t:${claims.user}:${claims.fingerprint}`;
    const base = await this.cache.get(
      key,
      () => this.loadByFingerprint(claims.user, claims.fingerprint, key),
      nowMs,
    );
    if (base.account !== claims.account) throw unauthorized();
    if (secretExpired(base, nowMs)) throw unauthorized();
    return {
      ...base,
      dict: claims.secretDict,
      token: { validityTs: claims.validityTs, options: claims.options, secretDict: claims.secretDict },
    };
  }

  private async verifyToken(token: string, nowMs: number): Promise<UserTokenClaims> {
    if (!this.tokens || token.length > 16_384) throw unauthorized();
    try {
      return await this.tokens.verify(token, nowMs);
    } catch {
      throw unauthorized();
    }
  }

  private async loadByFingerprint(
    user: string,
    fingerprint: string,
    key: string,
  ): Promise<Principal & { hashHex: string }> {
    const row = await this.repo.findBySecretFingerprint(user, fingerprint);
    if (!row || row.user_status !== 'active') throw unauthorized();
    return toPrincipal(row, key, this.twinSharing);
  }

  /**
   * The failure path of authentication: a 401 is counted against the client address and rethrown, or turned into
   * a 429 once the address has failed too often. Anything else passes through uncounted.
   */
  async failed(address: string, err: unknown): Promise<never> {
    if (err instanceof TwindexError && err.kind === 'unauthorized') await this.limiter.recordFailure(address);
    throw err;
  }

  authorize(principal: Principal, action: string): void {
    if (!principal.allowed.has(action)) throw forbidden(`Action '${action}' is not allowed for this user`);
  }

  /** This process's own access write: evicted before it is answered, so the next request here sees the change. */
  private invalidateAccount(account: string): void {
    this.cache.invalidateWhere((p) => p.account === account);
  }

  private admit(p: Principal & { hashHex: string }, nowMs: number): Principal {
    if (secretExpired(p, nowMs)) throw unauthorized();
    const last = this.lastTouched.get(p.hashHex);
    if (last === undefined || nowMs - last > TOUCH_EVERY_MS) {
      this.lastTouched.set(p.hashHex, nowMs);
      this.pendingTouches.set(p.hashHex, Buffer.from(p.hashHex, 'hex'));
    }
    return p;
  }

  private async load(hashHex: string): Promise<Principal & { hashHex: string }> {
    const row = await this.repo.findBySecretHash(Buffer.from(hashHex, 'hex'));
    if (!row || row.user_status !== 'active') throw unauthorized();
    return toPrincipal(row, hashHex, this.twinSharing);
  }

  private async flushTouches(): Promise<void> {
    if (this.pendingTouches.size === 0) return;
    const hashes = [...this.pendingTouches.values()];
    this.pendingTouches.clear();
    if (this.lastTouched.size > 100_000) this.lastTouched.clear();
    await this.repo.touch(hashes, nowSeconds()).catch(() => undefined);
  }
}

function toPrincipal(
  row: PrincipalRow,
  hashHex: string,
  sharing: TwinSharing,
): Principal & { hashHex: string } {
  const statement = { effect: row.effect, actions: row.actions };
  return {
    hashHex,
    account: row.account,
    accountName: row.account_name,
    user: row.user_uuid,
    userName: row.user_name,
    role: row.role_uuid,
    roleName: row.role_name,
    userDescription: row.user_description ?? {},
    dict: EMPTY_DICT,
    statement,
    allowed: new Set(allowedActions(statement, [row.permission_operations])),
    // Rules were validated when written; a rule that no longer compiles (older grammar) fails closed.
    // Under TWIN_SHARING=closed the role's twin_rule is not applied: foreign twins are never visible.
    twinRule: twinRuleUnderSharing(storedRule(row.twin_rule), sharing),
    identityRule: storedRule(row.identity_rule),
    fingerprint: row.fingerprint,
    secretValidityTs: row.secret_validity_ts,
  };
}

function secretExpired(p: Principal, nowMs: number): boolean {
  return p.secretValidityTs !== null && p.secretValidityTs * 1000 <= nowMs;
}
