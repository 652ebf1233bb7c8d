/**
 * The processes of the multi-host suite, each in its host's namespace and known by its PID: a private PostgreSQL and
 * Redis on the "db host" (the machine's own servers are never touched, and nothing in a namespace could reach their
 * 127.0.0.1 anyway), and the API and worker entry points run from source through the swc loader as the other
 * process suites do, so the suite needs no build step and always runs the code under test.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import type { Host } from './network.js';
import { NAME_PREFIX, SUBNET } from './network.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One process in a namespace: `ip netns exec` execs the program, so the PID we hold is the program's own. */
export class HostProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly host: Host,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  static spawn(host: Host, argv: string[], env: Record<string, string> = {}): HostProcess {
    const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
    const child = spawn('ip', ['netns', 'exec', host.ns, ...argv], {
      cwd: ROOT,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new HostProcess(host, child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 40_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A Twindex entry point (apps/api/main.ts, apps/worker/main.ts) on `host`. */
export function twindex(host: Host, entry: string, env: Record<string, string>): HostProcess {
  return HostProcess.spawn(
    host,
    [process.execPath, '--import', './test/upstream-simulator/ts-register.mjs', entry],
    { NODE_ENV: 'test', ...env },
  );
}

export interface DbHost {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

const DATA_PREFIX = `${NAME_PREFIX}-data-`;

/** Data folders of earlier runs that crashed before removing theirs. */
export function removeStaleData(): void {
  for (const name of readdirSync(tmpdir())) {
    if (name.startsWith(DATA_PREFIX)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function postgresBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/**
 * PostgreSQL (initdb'ed afresh as the postgres user, which initdb insists on) and Redis, listening only on the db
 * host's address, with their data in a temp folder that stop() removes.
 */
export async function startDbHost(host: Host, database: string): Promise<DbHost> {
  const dir = mkdtempSync(join(tmpdir(), DATA_PREFIX));
  const pgData = join(dir, 'pg');
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const bin = postgresBin();
  execFileSync(
    'runuser',
    ['-u', 'postgres', '--', `${bin}/initdb`, '-D', pgData, '-U', 'postgres', '--auth=trust', '--no-sync'],
    { stdio: 'ignore' },
  );
  appendFileSync(join(pgData, 'pg_hba.conf'), `host all all ${SUBNET}.0/24 trust\n`);
  const postgres = HostProcess.spawn(host, [
    'setpriv',
    `--reuid=${uid}`,
    `--regid=${gid}`,
    '--init-groups',
    `${bin}/postgres`,
    '-D',
    pgData,
    '-c',
    `listen_addresses=${host.address}`,
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'fsync=off',
    '-c',
    'max_connections=200',
  ]);
  const redis = HostProcess.spawn(host, [
    'redis-server',
    '--bind',
    host.address,
    '--port',
    '6379',
    '--save',
    '',
    '--appendonly',
    'no',
    // Reachable from the other hosts without a password (the suite's private network only).
    '--protected-mode',
    'no',
    '--dir',
    dir,
  ]);
  const stop = async () => {
    await Promise.all([postgres.stop(20_000), redis.stop(20_000)]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const admin = `postgres://postgres@${host.address}:5432/postgres`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const client = new Client({ connectionString: admin });
      try {
        await client.connect();
        await client.query(`CREATE DATABASE ${database}`);
        await client.end();
        break;
      } catch (e) {
        await client.end().catch(() => undefined);
        if (!postgres.running || Date.now() > deadline)
          throw new Error(`PostgreSQL did not start: ${String(e)}\n${postgres.output}`, { cause: e });
        await sleep(200);
      }
    }
    return {
      databaseUrl: `postgres://postgres@${host.address}:5432/${database}`,
      redisUrl: `redis://${host.address}:6379`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
