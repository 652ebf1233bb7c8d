import type { ExplainedRow, ExplainedTwin } from '../../../libs/domain/visibility/resolution-explanation.js';
import type { ResolveResult } from './resolve-answer.js';

/** Said in every explanation: what it leaves out, by design. */
export const NOT_LISTED =
  'identities of other accounts that this caller may not see are never listed or counted';

/** The body of POST /resolve/explain (docs/resolution.md "Explaining an answer"). */
export interface Explanation {
  identity: string;
  details: boolean;
  /** Exactly GET /resolve's body for this caller; when the action is denied, the 403 it would answer instead. */
  answer: ResolveResult | { error: { status: 403; subcode: string; description: string } };
  caller: {
    account: string;
    user: string;
    role: string;
    credential: 'secret' | 'token';
    /** True when explained for another user of the account (`as_user`). */
    as_user: boolean;
    /** DICT as the rules saw it. */
    dict: Record<string, unknown>;
  };
  action: { name: string; decision: 'allow' | 'deny'; by: string; reason?: string };
  context: { given: 'personal' | 'system' | 'accounts'; accounts: string[] | null };
  rows: ExplainedRow[];
  /** details=true only: how each resolved twin's visibility was decided. */
  twins?: ExplainedTwin[];
  not_listed: string;
  /** Whether the index entry of the name came from this process's cache; `not read` when the action was denied. */
  cache: { entry: 'hit' | 'miss' | 'not read' };
}
