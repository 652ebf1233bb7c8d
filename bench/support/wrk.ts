import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadOptions, LoadResult } from './load.js';
import { LOAD_CPU } from './processes.js';

/** wrk is the faster generator (C, one thread on its own core); the benches fall back to autocannon without it. */
export function haveWrk(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

const lua = (s: string) => JSON.stringify(s); // JSON string literals are valid Lua string literals for our inputs

/**
 * A Lua script that rotates through the paths, sets headers and body, optionally paces each connection
 * (`delay()`, whole milliseconds) to approximate an offered rate, and prints the result as JSON.
 */
function script(o: LoadOptions, connections: number): string {
  const paths = o.paths?.length ? o.paths : [new URL(o.url).pathname];
  const headerLines = Object.entries(o.headers ?? {})
    .map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`)
    .join('\n');
  const pace = o.rate ? Math.max(1, Math.round((connections * 1000) / o.rate)) : 0;
  return `
wrk.method = ${lua(o.method ?? 'GET')}
${o.body ? `wrk.body = ${lua(o.body)}` : ''}
${headerLines}
local paths = { ${paths.map(lua).join(', ')} }
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, paths[(i % #paths) + 1])
end
${pace ? `delay = function() return ${pace} end` : ''}
done = function(summary, latency, requests)
  io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
`;
}

export async function runWrk(o: LoadOptions): Promise<LoadResult> {
  const connections = o.connections ?? 64;
  const dir = mkdtempSync(join(tmpdir(), 'twindex-wrk-'));
  const file = join(dir, 'load.lua');
  writeFileSync(file, script(o, connections));
  const origin = new URL(o.url).origin;
  const args = [
    '-c',
    LOAD_CPU,
    'wrk',
    '-t1',
    `-c${connections}`,
    `-d${o.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    file,
    origin,
  ];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}`))));
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no result: ${out}`);
  const r = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    p50_us: number;
    p99_us: number;
    errors: number;
    non2xx: number;
  };
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}
