import { readFileSync } from 'node:fs';

/** The soft and hard limits on open files, as /proc/self/limits states them ("unlimited" as Infinity). */
export interface DescriptorLimit {
  soft: number;
  hard: number;
}

export interface ConnectionBudget {
  /** `server.maxConnections`: beyond it node closes a new connection at once. */
  maxConnections: number;
  /** Connections one client address may hold; beyond it a new one is closed at once. */
  perAddress: number;
  /** Descriptor soft limit the budget was derived from (undefined when the platform does not say). */
  softLimit: number | undefined;
  /** A line for the start-up log when the soft limit is low, with the fix; undefined when all is well. */
  warning: string | undefined;
}

/**
 * Below this soft limit the start-up log warns: 1024 (a common distribution default) leaves a few hundred
 * connections once files, database and Redis sockets have their share.
 */
export const LOW_SOFT_LIMIT = 4096;
/** Assumed when /proc/self/limits cannot be read (not Linux): the usual default elsewhere. */
const ASSUMED_SOFT_LIMIT = 1024;
/** One address may hold a quarter of the connections, and never more than this many. */
const PER_ADDRESS_CEILING = 1024;

/** Reads the open-files limit of this process; undefined where /proc is not there. */
export function readDescriptorLimit(path = '/proc/self/limits'): DescriptorLimit | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseDescriptorLimit(text);
}

export function parseDescriptorLimit(text: string): DescriptorLimit | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const value = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
  const soft = value(m[1]);
  const hard = value(m[2]);
  return Number.isNaN(soft) || Number.isNaN(hard) ? undefined : { soft, hard };
}

/**
 * The connection caps of docs/http.md "Limits". Every connection costs one descriptor; the process keeps a quarter
 * of its soft limit (at least 256) for what it needs besides: import spool files, PostgreSQL and Redis sockets, log
 * files, node's own. An `auto` cap is derived from what is left; a configured one is taken as given (and warned
 * about when it eats into that reserve).
 */
export function connectionBudget(
  configured: { maxConnections: number | 'auto'; perAddress: number | 'auto' },
  limit: DescriptorLimit | undefined,
): ConnectionBudget {
  const soft = limit?.soft ?? ASSUMED_SOFT_LIMIT;
  const finiteSoft = Number.isFinite(soft) ? soft : 1_048_576;
  const reserve = Math.max(256, Math.ceil(finiteSoft / 4));
  const available = Math.max(1, finiteSoft - reserve);
  const maxConnections = configured.maxConnections === 'auto' ? available : configured.maxConnections;
  const perAddress =
    configured.perAddress === 'auto'
      ? Math.max(1, Math.min(PER_ADDRESS_CEILING, Math.floor(maxConnections / 4)))
      : configured.perAddress;
  const problems: string[] = [];
  if (limit === undefined) problems.push(`the open-files limit is unknown (assumed ${ASSUMED_SOFT_LIMIT})`);
  else if (soft < LOW_SOFT_LIMIT) problems.push(`the open-files soft limit is ${soft} (hard ${limit.hard})`);
  if (configured.maxConnections !== 'auto' && maxConnections > available)
    problems.push(
      `HTTP_MAX_CONNECTIONS=${maxConnections} leaves fewer than ${reserve} descriptors for files and sockets`,
    );
  const raiseTo = limit !== undefined && Number.isFinite(limit.hard) ? String(limit.hard) : '65536';
  const warning =
    problems.length === 0
      ? undefined
      : `${problems.join('; ')}: start the API after \`ulimit -n ${raiseTo}\` (the image's entry point does), ` +
        `or set LimitNOFILE / the container's nofile ulimit; see docs/operations.md "File descriptors"`;
  return { maxConnections, perAddress, softLimit: limit?.soft, warning };
}
