import type { Caller, IdentityRow, ResolveContext, TwinFacts } from '../model.js';
import type { ResolutionTrace, TwinTrace } from './decision-trace.js';
import { canSeeTwin, decideIdentity, decideIdentityWithoutRules, TwinVariablesCache } from './visibility.js';

/** Resolution step 2 (docs/resolution.md): keep the rows whose owner the context names. */
export function inContext(row: IdentityRow, context: ResolveContext, caller: Caller): boolean {
  switch (context.kind) {
    case 'personal':
      return row.owner === caller.account;
    case 'system':
      return true;
    case 'accounts':
      return context.accounts.has(row.owner);
  }
}

export function narrowByContext(
  rows: readonly IdentityRow[],
  context: ResolveContext,
  caller: Caller,
): readonly IdentityRow[] {
  // `system` keeps everything: hand back the same array rather than a copy.
  if (context.kind === 'system') return rows;
  return rows.filter((row) => inContext(row, context, caller));
}

/**
 * Resolution steps 2–3: the rows (all of one name, step 1 is the caller's) that are in the context and that the
 * caller may see, valid ones only. One pass, no intermediate arrays; rule variables are built per twin, lazily.
 * `twinOf` is consulted only when a rule has to be evaluated. `trace` (explain only) hears every row, its steps and
 * its outcome.
 */
export function resolveRows(
  rows: readonly IdentityRow[],
  context: ResolveContext,
  caller: Caller,
  now: number,
  twinOf: (uuid: string) => TwinFacts | undefined,
  trace?: ResolutionTrace,
): IdentityRow[] {
  const kept: IdentityRow[] = [];
  let variables: TwinVariablesCache | undefined;
  for (const row of rows) {
    trace?.begin(row);
    if (!inContext(row, context, caller)) {
      trace?.end(row, false, false);
      continue;
    }
    variables ??= new TwinVariablesCache(caller, now, twinOf);
    const keep = decideIdentity(caller, row, now, false, variables, trace);
    if (keep) kept.push(row);
    trace?.end(row, true, keep);
  }
  return kept;
}

/**
 * Resolution steps 2–3 for a name's only row, as far as they go without evaluating a rule (the cached hot path: no
 * array, no variables): kept or not, or undefined when a rule would have to be evaluated — resolveRows decides then.
 */
export function keepRowWithoutRules(
  row: IdentityRow,
  context: ResolveContext,
  caller: Caller,
  now: number,
): boolean | undefined {
  return inContext(row, context, caller) && decideIdentityWithoutRules(caller, row, now);
}

/**
 * Step 4, details=false, with step 5's order: the distinct twins of the kept rows by (twin creation time, UUID) —
 * whether or not the caller may see the twin. UUIDs compare as strings (lowercase hex: the same order as bytes).
 */
export function resolvedTwinIds(keptRows: readonly IdentityRow[]): string[] {
  if (keptRows.length === 0) return [];
  if (keptRows.length === 1) return [keptRows[0].twin];
  return distinctByTwin(keptRows).map((row) => row.twin);
}

/**
 * Step 4, details=true: the facts of those resolved twins the caller may see, in the same order. A twin whose
 * facts `twinOf` cannot supply is left out: there is nothing to show, and its visibility cannot be decided.
 * `trace` (explain only) hears how each twin was decided.
 */
export function visibleTwins(
  keptRows: readonly IdentityRow[],
  caller: Caller,
  now: number,
  twinOf: (uuid: string) => TwinFacts | undefined,
  trace?: TwinTrace,
): TwinFacts[] {
  const twins: TwinFacts[] = [];
  for (const uuid of resolvedTwinIds(keptRows)) {
    const twin = twinOf(uuid);
    if (twin === undefined) trace?.(uuid, { visible: false, by: 'unknown twin' });
    else if (canSeeTwin(caller, twin, now, trace)) twins.push(twin);
  }
  return twins;
}

/**
 * One row per twin, sorted into answer order. Rows of one twin carry the same creation time; should they ever
 * disagree (a stale denormalised copy), the earliest wins so the answer still does not depend on row order.
 */
function distinctByTwin(rows: readonly IdentityRow[]): IdentityRow[] {
  const byTwin = new Map<string, IdentityRow>();
  for (const row of rows) {
    const seen = byTwin.get(row.twin);
    if (seen === undefined || row.twinCreatedTs < seen.twinCreatedTs) byTwin.set(row.twin, row);
  }
  return Array.from(byTwin.values()).sort(compareAnswerOrder);
}

export function compareAnswerOrder(a: IdentityRow, b: IdentityRow): number {
  if (a.twinCreatedTs !== b.twinCreatedTs) return a.twinCreatedTs < b.twinCreatedTs ? -1 : 1;
  return a.twin < b.twin ? -1 : a.twin > b.twin ? 1 : 0;
}
