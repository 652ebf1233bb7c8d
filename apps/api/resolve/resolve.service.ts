import { Injectable } from '@nestjs/common';
import type { Caller, IdentityRow, ResolveContext } from '../../../libs/domain/model.js';
import {
  keepRowWithoutRules,
  resolvedTwinIds,
  resolveRows,
  visibleTwins,
} from '../../../libs/domain/visibility/resolution.js';
import type { ResolutionExplainer } from '../../../libs/domain/visibility/resolution-explanation.js';
import { ruleNeedsTwinFacts, withRequestRuleBudget } from '../../../libs/domain/visibility/rule-variables.js';
import { IdentityIndex, type IndexedTwin, TwinFactsIndex } from '../../../libs/store/identity-index.js';

/** details=false: twin UUIDs; details=true: the twins the caller may see. Both in answer order. */
export type ResolveAnswer = { details: false; twins: string[] } | { details: true; twins: IndexedTwin[] };

const NO_TWINS: ReadonlyMap<string, IndexedTwin> = new Map();
const noTwin = () => undefined;

/**
 * Resolution as docs/resolution.md describes it, on top of the two index interfaces only (a cache may front either).
 * What a caller may see is decided here, per request, from caller-independent rows — the index never answers for a
 * caller.
 */
@Injectable()
export class ResolveService {
  constructor(
    private readonly identities: IdentityIndex,
    private readonly twins: TwinFactsIndex,
  ) {}

  async resolve(
    caller: Caller,
    name: string,
    context: ResolveContext,
    details: boolean,
    nowTs: number,
  ): Promise<ResolveAnswer> {
    const rows = await this.identities.lookup(name);
    // Issue #10: the request's rule budget (fail closed when spent).
    const [answer] = await this.answer(withRequestRuleBudget(caller), [rows], context, details, nowTs);
    return answer;
  }

  /**
   * The synchronous hot path: the answer when the entry is cached and nothing else must be fetched (no twin facts),
   * else undefined and the caller uses `resolve`. Same decision functions, no promise.
   */
  resolveNow(
    caller: Caller,
    name: string,
    context: ResolveContext,
    details: boolean,
    nowTs: number,
  ): ResolveAnswer | undefined {
    return details ? undefined : this.cachedTwinIds(caller, undefined, name, context, nowTs);
  }

  /**
   * Valid names only, each resolved on its own. Names whose entry is cached are answered at once by the hot path's
   * decision (details=false); the rest take one index round trip for all, and one more for twin facts if needed.
   */
  async resolveMany(
    caller: Caller,
    names: readonly string[],
    context: ResolveContext,
    details: boolean,
    nowTs: number,
  ): Promise<Map<string, ResolveAnswer>> {
    // Issue #10: one rule budget for every rule this request evaluates, the whole batch (fail closed when spent).
    const budgeted = withRequestRuleBudget(caller);
    const answers = new Map<string, ResolveAnswer>();
    let rest: readonly string[] = names;
    if (!details) {
      // Cached names cost no promise, no row copy and no intermediate map (bench/README.md, resolve-batch).
      const missing: string[] = [];
      for (const name of names) {
        // A repeated name is decided again (the same answer): cheaper than asking the map first for every name.
        const answer = this.cachedTwinIds(caller, budgeted, name, context, nowTs);
        if (answer === undefined) missing.push(name);
        else answers.set(name, answer);
      }
      rest = missing;
    }
    if (rest.length === 0) return answers;
    const byName = await this.identities.lookupMany(rest);
    const keys = Array.from(byName.keys());
    const found = await this.answer(
      budgeted,
      keys.map((name) => byName.get(name) ?? []),
      context,
      details,
      nowTs,
    );
    for (let i = 0; i < keys.length; i++) answers.set(keys[i], found[i]);
    return answers;
  }

  /**
   * details=false from the cache alone, or undefined (not cached, or a rule needs twin facts). `budgeted` is the
   * request's caller with its rule budget; a single resolve passes none and one is made only once a rule may run.
   */
  private cachedTwinIds(
    caller: Caller,
    budgeted: Caller | undefined,
    name: string,
    context: ResolveContext,
    nowTs: number,
  ): ResolveAnswer | undefined {
    // Valid until the next peek: read synchronously below, never kept.
    const rows = this.identities.peekRows(name);
    if (rows === undefined) return undefined;
    if (rows.length === 1) {
      // The commonest case: one row, decided without a rule (no variables, no arrays), one UUID or none.
      const kept = keepRowWithoutRules(rows[0], context, caller, nowTs);
      if (kept !== undefined) return { details: false, twins: kept ? [rows[0].twin] : [] };
    }
    // Rules may run from here on: the request's rule budget (issue #10), as on the general path.
    const withBudget = budgeted ?? withRequestRuleBudget(caller);
    if (twinsNeedingFacts([rows], withBudget, context, false, nowTs).size > 0) return undefined;
    return { details: false, twins: resolvedTwinIds(resolveRows(rows, context, withBudget, nowTs, noTwin)) };
  }

  /**
   * POST /resolve/explain: the answer `resolve` gives for these rows (read by the caller, so that it can say whether
   * the cache held them), decided by the same path, with every step the decision takes recorded in `explainer`.
   */
  async explain(
    caller: Caller,
    rows: readonly IdentityRow[],
    context: ResolveContext,
    details: boolean,
    nowTs: number,
    explainer: ResolutionExplainer,
  ): Promise<ResolveAnswer> {
    const [answer] = await this.answer(caller, [rows], context, details, nowTs, explainer);
    return answer;
  }

  /** `caller` carries the request's rule budget (withRequestRuleBudget). */
  private async answer(
    caller: Caller,
    rowsets: readonly (readonly IdentityRow[])[],
    context: ResolveContext,
    details: boolean,
    nowTs: number,
    explainer?: ResolutionExplainer,
  ): Promise<ResolveAnswer[]> {
    const needed = twinsNeedingFacts(rowsets, caller, context, details, nowTs);
    const facts = needed.size > 0 ? await this.twins.twinFacts(Array.from(needed)) : NO_TWINS;
    const twinOf = (uuid: string) => facts.get(uuid);
    return rowsets.map((rows) => {
      const kept = resolveRows(rows, context, caller, nowTs, twinOf, explainer);
      if (!details) return { details: false, twins: resolvedTwinIds(kept) };
      // visibleTwins hands back the very objects twinOf supplied.
      const twins = visibleTwins(kept, caller, nowTs, twinOf, explainer?.twinTrace).map(
        (t) => facts.get(t.uuid) as IndexedTwin,
      );
      return { details: true, twins };
    });
  }
}

/**
 * The twins whose facts the decision or the answer reads: in details mode every twin a kept row could name; otherwise
 * only those where a rule that will be evaluated reads TWIN, twin_owner or twin_status. Rows the decision refuses
 * without evaluating a rule (out of context, expired, foreign and private) never cost a fetch.
 */
function twinsNeedingFacts(
  rowsets: readonly (readonly IdentityRow[])[],
  caller: Caller,
  context: ResolveContext,
  details: boolean,
  nowTs: number,
): Set<string> {
  const needed = new Set<string>();
  const everyCandidate = details || ruleNeedsTwinFacts(caller.identityRule);
  for (const rows of rowsets) {
    for (const row of rows) {
      const kept = keepRowWithoutRules(row, context, caller, nowTs);
      if (kept === false) continue;
      // Else the row may be kept. Besides the role's identity_rule, only a foreign identity's visibility rule is
      // evaluated (a grant's or one's own never is), and only when the decision was left open.
      const ownRule =
        kept === undefined && row.grantee == null && row.owner !== caller.account ? row.visibility : null;
      if (everyCandidate || ruleNeedsTwinFacts(ownRule)) needed.add(row.twin);
    }
  }
  return needed;
}
