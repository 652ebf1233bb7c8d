import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOAD_CPU } from './processes.js';
import { haveWrk, runWrk } from './wrk.js';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  seconds: number;
  connections?: number;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  body?: string;
  /** Limit the offered load (requests/s), e.g. half of the measured peak for the latency target. */
  rate?: number;
  /** Rotate through these paths (autocannon request list), e.g. many identity names. */
  paths?: string[];
}

const require = createRequire(import.meta.url);
const AUTOCANNON = require.resolve('autocannon/autocannon.js');

const useWrk = process.env.BENCH_LOAD !== 'autocannon' && haveWrk();

export const loadGenerator = useWrk ? 'wrk' : 'autocannon';

/**
 * Load from a separate process pinned to its own core, 64 connections by default: wrk when installed
 * (`apt-get install wrk`), else autocannon (npm), whose pacing is burstier, so its p99 under a rate is pessimistic.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (useWrk) return runWrk(o);
  const args = [
    AUTOCANNON,
    '--json',
    '-c',
    String(o.connections ?? 64),
    '-d',
    String(o.seconds),
    '-m',
    o.method ?? 'GET',
  ];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (o.body) args.push('-b', o.body);
  if (o.rate) args.push('-R', String(o.rate));
  const target = o.paths?.length ? `${o.url}${o.paths[0]}` : o.url;
  if (o.paths && o.paths.length > 1) {
    // autocannon's CLI has no request list; a tiny driver script uses its API with one.
    return runProgrammatic(o);
  }
  args.push(target);
  const out = await capture('taskset', ['-c', LOAD_CPU, process.execPath, ...args]);
  return summarize(JSON.parse(out) as AutocannonJson);
}

/**
 * The options go to the driver in a file: a request list of thousands of paths (resolve-cold has 20 000) on the
 * command line exceeds the kernel's argument limit (spawn E2BIG).
 */
async function runProgrammatic(o: LoadOptions): Promise<LoadResult> {
  const driver = new URL('./load-driver.js', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'twindex-load-'));
  const file = join(dir, 'options.json');
  try {
    writeFileSync(file, JSON.stringify(o));
    const out = await capture('taskset', ['-c', LOAD_CPU, process.execPath, driver, file]);
    return summarize(JSON.parse(out) as AutocannonJson);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface AutocannonJson {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}

function summarize(r: AutocannonJson): LoadResult {
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}

function capture(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}
