import type { FairGroups } from './fair-ledger.js';
import { QUEUES, type QueueName } from './job-catalogue.js';

/** The ledger group of an account's jobs: it decides their turns (priority). */
export const accountGroup = (account: string) => `a:${account}`;
/** The ledger group of one sync source's twin jobs: capped, so one source cannot fill its account's share. */
export const sourceGroup = (source: string) => `s:${source}`;

/** Twin jobs counted by the ledger carry ids starting with this; a coalescing add's generated id does not. */
export const COUNTED_TWIN_JOB = 'f.';
/** Scan jobs added by the API or the reaper (`run.<run>`); a job scheduler's own are not counted. */
export const COUNTED_SCAN_JOB = 'run.';

const field = (data: unknown, name: string): string | undefined => {
  const value =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

/**
 * The groups of every fair queue, from a job's id and payload (libs/queue/job-catalogue.ts). A queue added later
 * (deliveries) adds one line here and reserves through its FairLedger.
 */
export const FAIR_GROUPS: Record<QueueName, FairGroups> = {
  [QUEUES.sync]: ({ id, data }) => {
    const account = field(data, 'account');
    return id?.startsWith(COUNTED_SCAN_JOB) && account ? [accountGroup(account)] : null;
  },
  [QUEUES.syncTwins]: ({ id, data }) => {
    const account = field(data, 'account');
    const source = field(data, 'sourceId');
    return id?.startsWith(COUNTED_TWIN_JOB) && account && source
      ? [accountGroup(account), sourceGroup(source)]
      : null;
  },
  [QUEUES.imports]: ({ data }) => {
    const account = field(data, 'account');
    return account ? [accountGroup(account)] : null;
  },
};
