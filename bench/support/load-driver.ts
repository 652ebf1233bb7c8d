import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LoadOptions } from './load.js';

/**
 * Runs autocannon's API in its own process with a rotating request list, printing its JSON result. The options come
 * in a JSON file named by the one argument (a long request list does not fit on a command line).
 */
const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (
  opts: Record<string, unknown>,
  cb: (err: unknown, result: unknown) => void,
) => void;

interface Request {
  method: string;
  path: string;
  body?: string;
}

const o = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadOptions;
const connections = o.connections ?? 64;
const requests: Request[] = (o.paths ?? []).map((path) => ({
  method: o.method ?? 'GET',
  path,
  body: o.body,
}));

/**
 * Each connection gets its own share of the list (together they send every path). autocannon builds every request
 * of its list for every connection before the first is sent: resolve-cold's 20 000 paths on 64 connections took
 * long enough that connections timed out (10 s without an answer) and the run counted errors.
 */
let next = 0;
function shareOf(k: number): Request[] {
  const share = requests.filter((_, i) => i % connections === k % connections);
  return share.length > 0 ? share : requests;
}

autocannon(
  {
    url: o.url,
    connections,
    duration: o.seconds,
    headers: o.headers,
    overallRate: o.rate,
    ...(requests.length > connections
      ? { setupClient: (client: { setRequests(r: Request[]): void }) => client.setRequests(shareOf(next++)) }
      : { requests }),
  },
  (err, result) => {
    if (err) process.exit(1);
    process.stdout.write(JSON.stringify(result));
  },
);
