import { Inject, Injectable } from '@nestjs/common';
import { AuthService } from '../../../libs/access/auth.service.js';
import type { Principal } from '../../../libs/access/principal.js';
import { type UserAccess, UserAccessRepository } from '../../../libs/access/user-access.repository.js';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { decideAction } from '../../../libs/domain/access/permission-evaluation.js';
import { forbidden, notFound } from '../../../libs/domain/errors.js';
import type { Caller, IdentityRow, ResolveContext } from '../../../libs/domain/model.js';
import { storedRule } from '../../../libs/domain/rules/stored-rule.js';
import { ResolutionExplainer } from '../../../libs/domain/visibility/resolution-explanation.js';
import { withRequestRuleBudget } from '../../../libs/domain/visibility/rule-variables.js';
import { type TwinSharing, twinRuleUnderSharing } from '../../../libs/domain/visibility/twin-sharing.js';
import { canSeeTwin } from '../../../libs/domain/visibility/visibility.js';
import { IdentityIndex, TwinFactsIndex } from '../../../libs/store/identity-index.js';
import { uuidPath } from '../http/path-id.js';
import { renderResolveAnswer } from './resolve-answer.js';
import { RESOLVE_IDENTITY } from './resolve-operation.js';
import { ResolveService } from './resolve.service.js';
import { type Explanation, NOT_LISTED } from './explanation.js';

export interface ExplainRequest {
  name: string;
  context: ResolveContext;
  details: boolean;
  /** A user of the caller's account to explain it for; undefined: the caller itself. */
  asUser?: string;
  /** The X-TrustedTwin dictionary to assume. */
  dict?: Record<string, unknown>;
}

/** Whom an explanation is for: the caller of GET /resolve it imitates, and where its access comes from. */
interface Subject {
  caller: Caller;
  credential: 'secret' | 'token';
  asUser: boolean;
  access: UserAccess | undefined;
  /** What GET /resolve admits by: the cached principal's actions for the caller itself. */
  allowed: (action: string) => boolean;
}

/**
 * POST /resolve/explain (docs/resolution.md "Explaining an answer"): the answer GET /resolve gives a caller, with
 * the path to it. Nothing here decides visibility: the rows are read as GET /resolve reads them (the same cache),
 * handed to ResolveService's own path, and the steps its decision functions record are written out.
 */
@Injectable()
export class ExplainService {
  private readonly sharing: TwinSharing;

  constructor(
    @Inject(CONFIG) config: TwindexConfig,
    private readonly auth: AuthService,
    private readonly access: UserAccessRepository,
    private readonly identities: IdentityIndex,
    private readonly twins: TwinFactsIndex,
    private readonly resolver: ResolveService,
  ) {
    this.sharing = config.TWIN_SHARING;
  }

  async explain(principal: Principal, request: ExplainRequest, now: number): Promise<Explanation> {
    const subject = await this.subject(principal, request);
    const { caller } = subject;
    const action = this.action(subject);
    const who = {
      caller: {
        account: caller.account,
        user: caller.user,
        role: caller.role,
        credential: subject.credential,
        as_user: subject.asUser,
        dict: caller.dict,
      },
      action,
      context: describeContext(request.context, caller),
    };
    if (action.decision === 'deny') {
      // GET /resolve answers 403 before it reads anything: so does its explanation, and it lists no rows.
      const refused = forbidden(`Action '${RESOLVE_IDENTITY.action}' is not allowed for this user`);
      return {
        identity: request.name,
        details: request.details,
        answer: { error: { status: 403, subcode: refused.subcode, description: refused.message } },
        ...who,
        rows: [],
        not_listed: NOT_LISTED,
        cache: { entry: 'not read' },
      };
    }
    // Read as GET /resolve reads: its synchronous peek at the cache first, the index (through the cache) if absent.
    const peeked = this.identities.peekRows(request.name);
    const rows = peeked !== undefined ? peeked.map(copyRow) : await this.identities.lookup(request.name);
    const explainer = new ResolutionExplainer(caller);
    const answer = await this.resolver.explain(
      caller,
      rows,
      request.context,
      request.details,
      now,
      explainer,
    );
    const shown = await this.twinsShown(caller, explainer.listedTwins(), now);
    return {
      identity: request.name,
      details: request.details,
      answer: renderResolveAnswer(answer),
      ...who,
      rows: explainer.rows(shown),
      ...(request.details ? { twins: explainer.twins() } : {}),
      not_listed: NOT_LISTED,
      cache: { entry: peeked !== undefined ? 'hit' : 'miss' },
    };
  }

  private async subject(principal: Principal, request: ExplainRequest): Promise<Subject> {
    if (request.asUser === undefined) {
      // The caller itself, exactly as its GET /resolve would run: the request's DICT unless one is assumed, under
      // which a token's signed secret_dict still wins (docs/rules.md "Variables").
      const dict =
        request.dict === undefined
          ? principal.dict
          : { ...request.dict, ...(principal.token?.secretDict ?? {}) };
      return {
        caller: { ...principal, dict },
        credential: principal.token === undefined ? 'secret' : 'token',
        asUser: false,
        access: await this.access.find(principal.account, principal.user),
        allowed: (action) => principal.allowed.has(action),
      };
    }
    // Explaining for another user reads that user: the action that reads users is needed too.
    this.auth.authorize(principal, 'get_user');
    const user = uuidPath(request.asUser, 'User');
    const access = await this.access.find(principal.account, user);
    // Another account's user answers exactly as one that does not exist.
    if (access === undefined) throw notFound('User');
    return {
      caller: {
        account: access.account,
        user: access.user,
        role: access.role,
        userDescription: access.userDescription,
        dict: request.dict ?? {},
        twinRule: twinRuleUnderSharing(storedRule(access.twinRule), this.sharing),
        identityRule: storedRule(access.identityRule),
      },
      credential: 'secret',
      asUser: true,
      access,
      allowed: (action) =>
        decideAction(access.statement, access.permissions, action).allowed && access.status === 'active',
    };
  }

  /** Which statement, permission or built-in role admits resolve_twin_identity, and why not. */
  private action(subject: Subject): Explanation['action'] {
    const name = RESOLVE_IDENTITY.action;
    const { access } = subject;
    if (access !== undefined && access.status !== 'active') {
      return {
        name,
        decision: 'deny',
        by: 'user status',
        reason: 'the user is disabled: its secrets and tokens are refused (401)',
      };
    }
    const statement = access?.statement ?? { effect: 'allow', actions: [] };
    const decision = decideAction(statement, access?.permissions ?? [], name);
    // What GET /resolve admits by decides; the reasons say which part of the user's access that was.
    const allowed = subject.allowed(name);
    const byStatement = access?.builtIn === true ? `built-in role ${access.roleName}` : 'role statement';
    if (allowed) {
      const by =
        decision.allowed && decision.by.kind === 'permission' ? `permission ${decision.by.id}` : byStatement;
      return { name, decision: 'allow', by };
    }
    return {
      name,
      decision: 'deny',
      by: byStatement,
      reason: decision.allowed ? 'changed a moment ago: ask again' : decision.reason,
    };
  }

  /**
   * Whether the caller may see each listed twin (so an explanation may show what a rule read of it, and a foreign
   * row's validity). Decided after the answer, with a rule budget of its own: it never spends the answer's.
   */
  private async twinsShown(caller: Caller, uuids: string[], now: number): Promise<(uuid: string) => boolean> {
    if (uuids.length === 0) return () => false;
    const facts = await this.twins.twinFacts(uuids);
    const judge = withRequestRuleBudget(caller);
    const shown = new Set<string>();
    for (const [uuid, twin] of facts) if (canSeeTwin(judge, twin, now)) shown.add(uuid);
    return (uuid) => shown.has(uuid);
  }
}

/** A peeked row may be a view of the cache's compact form, valid until the next peek: keep a plain copy. */
function copyRow(row: IdentityRow): IdentityRow {
  return {
    name: row.name,
    twin: row.twin,
    owner: row.owner,
    visibility: row.visibility,
    validityTs: row.validityTs,
    twinCreatedTs: row.twinCreatedTs,
    grantee: row.grantee ?? null,
  };
}

function describeContext(context: ResolveContext, caller: Caller): Explanation['context'] {
  switch (context.kind) {
    case 'personal':
      return { given: 'personal', accounts: [caller.account] };
    case 'system':
      return { given: 'system', accounts: null };
    case 'accounts':
      return { given: 'accounts', accounts: Array.from(context.accounts).sort() };
  }
}
