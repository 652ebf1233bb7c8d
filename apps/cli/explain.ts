/**
 * `twindex explain`: asks POST /resolve/explain and prints its answer as a tree a person reads at a glance — ✓/✗ per
 * check, the failing rule with its missing variables. The shape read here is the endpoint's (docs/resolution.md
 * "Explaining an answer"); only what is printed is typed.
 */

interface Check {
  check: string;
  passed: boolean;
  validity_ts?: number | null;
  detail?: string;
  rule?: string | null;
  missing?: string[];
}

interface Row {
  twin: string;
  owner: string;
  personal: boolean;
  kept: boolean;
  visibility?: string | null;
  checks: Check[];
}

interface TwinJudgement {
  twin: string;
  visible: boolean;
  by: string;
  rule?: string | null;
  missing?: string[];
  detail?: string;
}

export interface ExplanationBody {
  identity: string;
  details: boolean;
  answer: { twins: Array<string | { uuid: string }> } | { error: { status: number; description: string } };
  caller: { account: string; user: string; role: string; credential: string; as_user: boolean; dict: object };
  action: { name: string; decision: 'allow' | 'deny'; by: string; reason?: string };
  context: { given: string; accounts: string[] | null };
  rows: Row[];
  twins?: TwinJudgement[];
  not_listed: string;
  cache: { entry: string };
}

export interface ExplainOptions {
  url: string;
  secret: string;
  identity: string;
  asUser?: string;
  context?: string[];
  dict?: Record<string, unknown>;
  details?: boolean;
}

export class ExplainFailed extends Error {}

/** Calls POST /resolve/explain; throws ExplainFailed with the API's subcode and description on an error answer. */
export async function requestExplanation(o: ExplainOptions): Promise<ExplanationBody> {
  const body: Record<string, unknown> = { identity: o.identity };
  if (o.context !== undefined) body.context = o.context.length === 1 ? o.context[0] : o.context;
  if (o.details) body.details = true;
  if (o.asUser !== undefined) body.as_user = o.asUser;
  if (o.dict !== undefined) body.dict = o.dict;
  let res: Response;
  try {
    res = await fetch(new URL('/resolve/explain', o.url), {
      method: 'POST',
      headers: { authorization: o.secret, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ExplainFailed(`cannot reach ${o.url}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ExplainFailed(`HTTP ${res.status}: not JSON`);
  }
  if (res.status !== 200) {
    const error = parsed as { subcode?: string; description?: string };
    throw new ExplainFailed(`HTTP ${res.status} ${error.subcode ?? ''}: ${error.description ?? text}`);
  }
  return parsed as ExplanationBody;
}

/** Whether the explained answer names at least one twin (the command's exit code 0). */
export function resolves(e: ExplanationBody): boolean {
  return 'twins' in e.answer && e.answer.twins.length > 0;
}

const mark = (passed: boolean) => (passed ? '✓' : '✗');

/** The explanation as an indented tree, one line per check. */
export function renderExplanation(e: ExplanationBody): string {
  const lines: string[] = [];
  const twins = 'twins' in e.answer ? e.answer.twins.map((t) => (typeof t === 'string' ? t : t.uuid)) : [];
  lines.push(
    `${e.identity}: ${
      'error' in e.answer
        ? `refused (${e.answer.error.status})`
        : twins.length === 0
          ? 'resolves to no twin'
          : `resolves to ${twins.length} twin${twins.length === 1 ? '' : 's'}`
    }`,
  );
  for (const twin of twins) lines.push(`  → ${twin}`);
  lines.push(
    `caller   user ${e.caller.user} (role ${e.caller.role}) of account ${e.caller.account}` +
      `${e.caller.as_user ? ', explained as that user' : ''}, ${e.caller.credential}, DICT ${JSON.stringify(e.caller.dict)}`,
  );
  lines.push(
    `action   ${mark(e.action.decision === 'allow')} ${e.action.name}: ${e.action.decision} by ${e.action.by}` +
      (e.action.reason === undefined ? '' : ` — ${e.action.reason}`),
  );
  lines.push(
    `context  ${e.context.given}${e.context.accounts === null ? ' (every owner)' : `: ${e.context.accounts.join(', ')}`}`,
  );
  lines.push(`cache    ${e.cache.entry}`);
  lines.push(e.rows.length === 0 ? 'rows     none listed' : 'rows');
  e.rows.forEach((row, i) => {
    const last = i === e.rows.length - 1;
    lines.push(
      `${last ? '└─' : '├─'} ${mark(row.kept)} twin ${row.twin}, owner ${row.owner}` +
        `${row.personal ? ' (own identity)' : ''}: ${row.kept ? 'kept' : 'dropped'}`,
    );
    const indent = last ? '   ' : '│  ';
    row.checks.forEach((check, k) => {
      const branch = k === row.checks.length - 1 ? '└─' : '├─';
      lines.push(`${indent}${branch} ${mark(check.passed)} ${describeCheck(check)}`);
    });
  });
  if (e.twins !== undefined) {
    lines.push('twins (details)');
    for (const t of e.twins) {
      lines.push(
        `   ${mark(t.visible)} ${t.twin}: ${t.visible ? 'visible' : 'not visible'} by ${t.by}` +
          ruleText(t.rule, t.detail, t.missing),
      );
    }
  }
  lines.push(`not listed: ${e.not_listed}`);
  return lines.join('\n') + '\n';
}

function describeCheck(c: Check): string {
  switch (c.check) {
    case 'validity':
      return `validity${c.validity_ts === undefined ? '' : ` (validity_ts ${String(c.validity_ts)})`}`;
    case 'role.identity_rule':
      return `role.identity_rule${ruleText(c.rule, c.detail, c.missing)}`;
    default:
      return `${c.check}${c.detail === undefined ? '' : `: ${c.detail}`}`;
  }
}

function ruleText(rule: string | null | undefined, detail?: string, missing?: string[]): string {
  const parts: string[] = [];
  if (rule !== undefined) parts.push(rule === null ? 'none' : rule);
  if (detail !== undefined) parts.push(detail);
  if (missing !== undefined && missing.length > 0) parts.push(`missing: ${missing.join(', ')}`);
  return parts.length === 0 ? '' : `: ${parts.join(' — ')}`;
}
