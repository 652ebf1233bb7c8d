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

const o = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadOptions;
autocannon(
  {
    url: o.url,
    connections: o.connections ?? 64,
    duration: o.seconds,
    headers: o.headers,
    overallRate: o.rate,
    requests: (o.paths ?? []).map((path) => ({ method: o.method ?? 'GET', path, body: o.body })),
  },
  (err, result) => {
    if (err) process.exit(1);
    process.stdout.write(JSON.stringify(result));
  },
);
