import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SERVER_CPU, startServer, type Server } from './support/processes.js';
import type { Seeded } from './support/seed.js';
import { median, printTable, withSpread } from './support/stats.js';

const twinOf = (i: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

async function writeLines(file: string, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 1; i <= count; i++) {
    if (!out.write(line(i))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

/**
 * `import`: NDJSON import of `count` identities (onto the seeded twins) end to end — upload, staging, the worker's
 * validation and merge — against PostgreSQL `COPY` of the same rows into a table with the same indexes (psql \copy),
 * measured in the same run, round by round (interleaved). Target ≥ 0.65 × the baseline's rows/s.
 */
export async function importBench(
  s: Seeded,
  databaseUrl: string,
  api: string,
  worker: string,
  env: Record<string, string>,
  count: number,
  rounds: number,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'twindex-import-bench-'));
  const ndjson = join(dir, 'identities.ndjson');
  const csv = join(dir, 'identities.csv');
  const nowTs = Date.now() / 1000;
  await writeLines(ndjson, count, (i) => `{"twin":"${twinOf(i)}","identity":"IMP#bench-${i}"}\n`);
  await writeLines(
    csv,
    count,
    (i) => `IMP#bench-${i},${twinOf(i)},${s.account},,,${nowTs},${nowTs},${s.account}\n`,
  );

  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  // Baseline: COPY into a table shaped and indexed like identities (no triggers, no foreign key), fresh each round.
  const copyOnce = async (): Promise<number> => {
    await db.query(
      'DROP TABLE IF EXISTS import_baseline; CREATE TABLE import_baseline (LIKE identities INCLUDING ALL)',
    );
    await db.query('CHECKPOINT');
    const started = performance.now();
    execFileSync('psql', [
      databaseUrl,
      '-qc',
      `\\copy import_baseline (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator) FROM '${csv}' CSV`,
    ]);
    const seconds = (performance.now() - started) / 1000;
    await db.query('DROP TABLE import_baseline');
    return seconds;
  };

  const servers: Server[] = [];
  try {
    servers.push(await startServer(api, Number(process.env.BENCH_IMPORT_PORT ?? 8110), env));
    // Port 0: the worker's metrics listener takes any free port, so it cannot clash with another bench's worker.
    servers.push(await startWorker(worker, { ...env, WORKER_METRICS_PORT: '0' }));
    const importOnce = async (): Promise<{
      seconds: number;
      stored: number;
      phases: string;
      status: string;
      imported: number;
    }> => {
      // Each round imports into an index without the previous round's rows (a re-import would write nothing).
      await db.query(`DELETE FROM identities WHERE name LIKE 'IMP#bench-%'`);
      await db.query('VACUUM identities');
      await db.query('CHECKPOINT');
      const started = performance.now();
      const startedAt = Date.now() / 1000;
      const res = await fetch(`${servers[0].url}/imports`, {
        method: 'POST',
        headers: { authorization: s.secret, 'content-type': 'application/x-ndjson' },
        body: readFileSync(ndjson),
      });
      if (res.status !== 202) throw new Error(`import upload failed: ${res.status} ${await res.text()}`);
      const { uuid } = (await res.json()) as { uuid: string };
      const stored = (performance.now() - started) / 1000;
      let report: { status: string; counts: { imported: number; skipped: number } } | undefined;
      for (;;) {
        const r = await fetch(`${servers[0].url}/imports/${uuid}`, { headers: { authorization: s.secret } });
        report = (await r.json()) as typeof report;
        if (report?.status === 'completed' || report?.status === 'failed') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const seconds = (performance.now() - started) / 1000;
      // Where the time went, from the report's own timestamps (same clock): created_ts is taken once the body is
      // spooled (parsed, validated, encoded), before its COPY into import_rows; started_ts when the worker takes
      // the job; finished_ts when the merge is done. What follows finished_ts is this loop's polling.
      const {
        rows: [t],
      } = await db.query<{ created_ts: number; started_ts: number; finished_ts: number }>(
        'SELECT created_ts, started_ts, finished_ts FROM imports WHERE uuid = $1',
        [uuid],
      );
      const phases =
        `spool ${(t.created_ts - startedAt).toFixed(1)} s, COPY+enqueue ${(stored - (t.created_ts - startedAt)).toFixed(1)} s, ` +
        `hand-off ${(t.started_ts - startedAt - stored).toFixed(2)} s, merge ${(t.finished_ts - t.started_ts).toFixed(1)} s, ` +
        `poll ${(seconds - (t.finished_ts - startedAt)).toFixed(2)} s`;
      return {
        seconds,
        stored,
        phases,
        status: report?.status ?? '?',
        imported: report?.counts.imported ?? 0,
      };
    };
    const rows: Array<Record<string, string | number>> = [];
    const ratios: number[] = [];
    const importSeconds: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const copySeconds = await copyOnce();
      const run = await importOnce();
      const ratio = copySeconds / run.seconds;
      ratios.push(ratio);
      importSeconds.push(run.seconds);
      rows.push(
        {
          what: `round ${round}: COPY baseline`,
          seconds: copySeconds,
          'rows/s': count / copySeconds,
          ratio: 1,
        },
        {
          what: `round ${round}: POST /imports → ${run.status} (${run.imported} imported, body stored in ${run.stored.toFixed(1)} s; ${run.phases})`,
          seconds: run.seconds,
          'rows/s': count / run.seconds,
          ratio,
        },
      );
    }
    const mib = statSync(ndjson).size / 2 ** 20;
    rows.push({
      what: `median of ${rounds} rounds: the import's seconds and rows/s, the ratio (min–max)`,
      seconds: median(importSeconds),
      'rows/s': count / median(importSeconds),
      ratio: withSpread(ratios),
    });
    printTable(
      `import (${count} identities, ${mib.toFixed(0)} MiB NDJSON) vs COPY into a same-indexed table — target ≥ 0.65×`,
      rows,
    );
  } finally {
    await Promise.all(servers.map((x) => x.stop()));
    await db.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The worker serves no HTTP; started as a plain child process (pinned like the API), stopped like a server. */
function startWorker(worker: string, env: Record<string, string>): Promise<Server> {
  const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, worker], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return Promise.resolve({
    url: '',
    process: child,
    rssMiB: () => 0,
    cpuSeconds: () => 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  });
}
