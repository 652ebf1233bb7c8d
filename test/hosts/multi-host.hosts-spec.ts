/**
 * Twindex on several hosts (docs/operations.md, "Many hosts"): PostgreSQL and Redis on a db host, three API hosts and
 * two worker hosts, each its own network namespace on one bridge; the test runs in the root namespace as a client
 * outside the cluster would. Prints its figures as `[hosts] …` lines. Needs root (or CAP_NET_ADMIN) for `ip netns`;
 * where the machine does not allow it, the suite says so and skips.
 */
import { createServer, connect, type Server } from 'node:net';
import { Client } from 'pg';
import { OPERATOR_KEY } from '../support/test-env.js';
import { UpstreamSimulator } from '../upstream-simulator/simulator.js';
import { expectedSnapshot, indexSnapshot } from '../upstream-simulator/sync-harness.js';
import { type DbHost, type HostProcess, removeStaleData, sleep, startDbHost, twindex } from './hosts.js';
import {
  BRIDGE_ADDRESS,
  createBridge,
  createHost,
  droppedPackets,
  type Host,
  heal,
  partition,
  removeStaleNetwork,
  whyNoNetworkNamespaces,
} from './network.js';

const why = whyNoNetworkNamespaces();
if (why) console.log(`[hosts] SKIPPED: this machine does not allow network namespaces (${why})`);
const describeIfNetns = why ? describe.skip : describe;

const API_PORT = 8080;
const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 1000;
/** docs/http.md: a request waiting on PostgreSQL gives up after connect + statement timeout and a grace. */
const DEADLINE_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 500;
/** What a busy shared machine may add before we call it a hang. */
const SLACK_MS = 3000;
/** docs/resolution.md's coherence bound, with the same slack for a loaded machine. */
const COHERENCE_BOUND_MS = 1000;

/** The load client's endpoint list looks at /health/ready this often (see the rolling-restart test). */
const ENDPOINT_POLL_MS = 250;
const API_DRAIN_MS = 3000;

const figure = (line: string) => console.log(`[hosts] ${line}`);

interface Res {
  status: number;
  body: any;
  ms: number;
}

async function call(
  base: string,
  method: string,
  path: string,
  secret?: string,
  body?: unknown,
): Promise<Res> {
  const started = performance.now();
  try {
    const res = await fetch(new URL(path, base), {
      method,
      headers: {
        ...(secret ? { authorization: secret } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, ms: performance.now() - started };
  } catch (e) {
    return { status: 0, body: String(e), ms: performance.now() - started };
  }
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  withinMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** A TCP forwarder on the bridge address to a service of the root namespace's loopback (the upstream simulator). */
async function forwarder(targetPort: number): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream])
      s.on('error', () => (s === client ? upstream.destroy() : client.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, BRIDGE_ADDRESS, resolve));
  return server;
}

describeIfNetns('Twindex on many hosts (network namespaces)', () => {
  let dbHost: Host;
  const apiHosts: Host[] = [];
  const workerHosts: Host[] = [];
  let db: DbHost | undefined;
  let pg: Client | undefined;
  const apis = new Map<Host, HostProcess>();
  const workers = new Map<Host, HostProcess>();
  let env: Record<string, string>;
  let sim: UpstreamSimulator | undefined;
  let simForward: Server | undefined;
  let acmeSyncs: { account: string; secret: string };
  let acme: { account: string; secret: string };
  const base = (host: Host) => `http://${host.address}:${API_PORT}`;

  function startApi(host: Host, migrate: boolean): HostProcess {
    const api = twindex(host, 'apps/api/main.ts', {
      ...env,
      HOST: '0.0.0.0',
      PORT: String(API_PORT),
      MIGRATIONS_RUN: migrate ? 'true' : 'false',
      // Unready-but-serving on SIGTERM: several of the rolling-restart client's endpoint polls, with room for a busy machine.
      API_DRAIN_MS: String(API_DRAIN_MS),
    });
    apis.set(host, api);
    return api;
  }

  async function ready(host: Host): Promise<void> {
    const api = apis.get(host) as HostProcess;
    let last = '';
    await until(
      `API on ${host.name} to be ready`,
      async () => {
        if (!api.running) throw new Error(`API on ${host.name} exited:\n${api.output}`);
        const r = await call(base(host), 'GET', '/health/ready');
        last = JSON.stringify(r.body);
        return r.status === 200 ? true : undefined;
      },
      90_000,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message} (last: ${last}):\n${api.output.slice(-3000)}`);
    });
  }

  function startWorker(host: Host): HostProcess {
    const worker = twindex(host, 'apps/worker/main.ts', {
      ...env,
      MIGRATIONS_RUN: 'false',
      WORKER_CONCURRENCY: '4',
      WORKER_METRICS_PORT: '9464',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
    });
    workers.set(host, worker);
    return worker;
  }

  async function workerReady(host: Host): Promise<void> {
    const worker = workers.get(host) as HostProcess;
    await until(
      `worker on ${host.name} to be ready`,
      async () => {
        if (!worker.running) throw new Error(`worker on ${host.name} exited:\n${worker.output}`);
        return worker.output.includes('ready: worker') ? true : undefined;
      },
      90_000,
      200,
    );
  }

  beforeAll(async () => {
    removeStaleNetwork();
    removeStaleData();
    createBridge();
    dbHost = createHost('db', 2);
    for (let i = 1; i <= 3; i++) apiHosts.push(createHost(`api${i}`, 10 + i));
    for (let i = 1; i <= 2; i++) workerHosts.push(createHost(`wk${i}`, 20 + i));
    db = await startDbHost(dbHost, 'twindex_hosts');
    pg = new Client({ connectionString: db.databaseUrl });
    await pg.connect();
    env = {
      DATABASE_URL: db.databaseUrl,
      DATABASE_POOL_SIZE: '5',
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      REDIS_URL: db.redisUrl,
      REDIS_PREFIX: 'twindex_hosts',
      TWINDEX_OPERATOR_KEY: OPERATOR_KEY,
      TWINDEX_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
      SYNC_ALLOWED_HOSTS: BRIDGE_ADDRESS,
      SYNC_TWIN_BACKOFF_MS: '200',
      RATE_LIMIT_FAILURES_PER_ADDRESS: '1000000',
      RATE_LIMIT_FAILURES_PER_ACCOUNT: '1000000',
      // The load of the rolling restart comes from one account.
      RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT: '0',
      LOG_LEVEL: 'info',
    };
    // The first API host migrates; the others join once the schema is there (the advisory lock would make a race
    // safe too, but a sequential start keeps the two cores free for one migration).
    startApi(apiHosts[0], true);
    await ready(apiHosts[0]);
    for (const host of apiHosts.slice(1)) startApi(host, false);
    for (const host of workerHosts) startWorker(host);
    await Promise.all([...apiHosts.slice(1).map(ready), ...workerHosts.map(workerReady)]);
    const res = await call(base(apiHosts[0]), 'POST', '/accounts', `Bearer ${OPERATOR_KEY}`, {
      name: 'acme',
    });
    if (res.status !== 201) throw new Error(`account: ${res.status} ${JSON.stringify(res.body)}`);
    acme = { account: res.body.account.uuid, secret: res.body.secret };
    const other = await call(base(apiHosts[0]), 'POST', '/accounts', `Bearer ${OPERATOR_KEY}`, {
      name: 'syncs',
    });
    if (other.status !== 201) throw new Error(`account: ${other.status} ${JSON.stringify(other.body)}`);
    acmeSyncs = { account: other.body.account.uuid, secret: other.body.secret };
  }, 180_000);

  afterAll(async () => {
    try {
      await Promise.all([...apis.values(), ...workers.values()].map((p) => p.stop()));
      await pg?.end().catch(() => undefined);
      await db?.stop();
      await sim?.stop();
      simForward?.close();
    } finally {
      removeStaleNetwork();
      removeStaleData();
    }
  }, 120_000);

  it('every API host answers, on its own address, and a write through one is read by the others within the bound', async () => {
    for (const host of apiHosts) {
      const live = await call(base(host), 'GET', '/health/live');
      expect({ host: host.name, status: live.status }).toEqual({ host: host.name, status: 200 });
    }
    // The workers' probes and metrics are reachable on their hosts' addresses too (what a kubelet and Prometheus use).
    for (const host of workerHosts) {
      const health = await call(`http://${host.address}:9464`, 'GET', '/health');
      expect({ host: host.name, status: health.status }).toEqual({ host: host.name, status: 200 });
    }
    const twin = await call(base(apiHosts[0]), 'POST', '/twins', acme.secret, { description: { v: 0 } });
    expect(twin.status).toBe(201);
    const lags: number[] = [];
    for (let round = 1; round <= 10; round++) {
      // Every host has the old value cached, so a stale cache would show.
      for (const host of apiHosts.slice(1)) {
        const seen = await call(base(host), 'GET', `/twins/${twin.body.uuid}`, acme.secret);
        expect(seen.body?.description).toEqual({ v: round - 1 });
      }
      const writer = apiHosts[round % apiHosts.length];
      const patched = await call(base(writer), 'PATCH', `/twins/${twin.body.uuid}`, acme.secret, {
        description: { v: round },
      });
      expect(patched.status).toBe(200);
      const written = performance.now();
      for (const host of apiHosts.filter((h) => h !== writer)) {
        await until(
          `${host.name} to answer v${round}`,
          async () => {
            const seen = await call(base(host), 'GET', `/twins/${twin.body.uuid}`, acme.secret);
            return seen.body?.description?.v === round ? true : undefined;
          },
          COHERENCE_BOUND_MS + SLACK_MS,
          10,
        );
        lags.push(performance.now() - written);
      }
    }
    figure(
      `coherence lag across hosts: p50 ${Math.round(percentile(lags, 50))} ms, max ${Math.round(Math.max(...lags))} ms (${lags.length} reads)`,
    );
    expect(Math.max(...lags)).toBeLessThan(COHERENCE_BOUND_MS + SLACK_MS);
  }, 120_000);

  it('an API host partitioned from PostgreSQL answers 503 and turns unready, the others serve, and it heals with no stale answer', async () => {
    const [healthy, other, cut] = apiHosts;
    const twin = await call(base(healthy), 'POST', '/twins', acme.secret, {
      description: { state: 'before' },
    });
    expect(twin.status).toBe(201);
    // The partitioned host has the twin cached from before the partition.
    expect((await call(base(cut), 'GET', `/twins/${twin.body.uuid}`, acme.secret)).body?.description).toEqual(
      {
        state: 'before',
      },
    );

    const cutAt = performance.now();
    partition(cut, dbHost.address);
    let healed = false;
    try {
      const unready = (async () => {
        await until(
          'the partitioned host to turn unready',
          async () => {
            const r = await call(base(cut), 'GET', '/health/ready');
            return r.status === 503 ? true : undefined;
          },
          DEADLINE_MS + SLACK_MS + 10_000,
        );
        return performance.now() - cutAt;
      })();
      const write = await call(base(cut), 'POST', '/twins', acme.secret, {});
      const toUnready = await unready;
      figure(
        `partitioned host: a write answered ${write.status} ${write.body?.subcode ?? ''} after ${Math.round(write.ms)} ms; unready after ${Math.round(toUnready)} ms`,
      );
      expect({ status: write.status, subcode: write.body?.subcode }).toEqual({
        status: 503,
        subcode: 'database_unavailable',
      });
      expect(write.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      expect(toUnready).toBeLessThan(DEADLINE_MS + SLACK_MS + 10_000);

      // The others keep serving, and take a write the partitioned host cannot see.
      for (const host of [healthy, other]) {
        expect((await call(base(host), 'GET', '/health/ready')).status).toBe(200);
      }
      const changed = await call(base(other), 'PATCH', `/twins/${twin.body.uuid}`, acme.secret, {
        description: { state: 'during' },
      });
      expect(changed.status).toBe(200);
      // Never the old value: either it cannot answer (503) or it has the new one.
      const read = await call(base(cut), 'GET', `/twins/${twin.body.uuid}`, acme.secret);
      figure(`partitioned host: a read of a twin changed elsewhere answered ${read.status}`);
      expect(read.body?.description).not.toEqual({ state: 'before' });
      expect(droppedPackets(cut)).toBeGreaterThan(0);

      heal(cut);
      healed = true;
      const healAt = performance.now();
      await until(
        'the healed host to turn ready',
        async () => {
          const r = await call(base(cut), 'GET', '/health/ready');
          return r.status === 200 ? true : undefined;
        },
        60_000,
        100,
      );
      const toReady = performance.now() - healAt;
      const after = await call(base(cut), 'GET', `/twins/${twin.body.uuid}`, acme.secret);
      figure(
        `partitioned host: ready again ${Math.round(toReady)} ms after the partition healed; it then answered ${after.status} ${JSON.stringify(after.body?.description)}`,
      );
      expect({ status: after.status, description: after.body?.description }).toEqual({
        status: 200,
        description: { state: 'during' },
      });
    } finally {
      if (!healed) heal(cut);
    }
  }, 120_000);

  it('a worker host killed mid-sync and mid-import: the other worker finishes both, nothing lost or duplicated', async () => {
    const IMPORT_TWINS = 40;
    const IMPORT_LINES = 150_000;
    const SYNC_TWINS = 400;
    const PER_TWIN = 10;
    const api = base(apiHosts[0]);
    const twins: string[] = [];
    for (let i = 0; i < IMPORT_TWINS; i++) {
      const twin = await call(api, 'POST', '/twins', acme.secret, {});
      expect(twin.status).toBe(201);
      twins.push(twin.body.uuid);
    }
    // The upstream runs in the root namespace; the workers reach it through the bridge address.
    sim = await UpstreamSimulator.start({ latencyMs: 3 });
    for (let t = 0; t < SYNC_TWINS; t++) {
      const twin = sim.addTwin(acmeSyncs.account, { n: t });
      for (let i = 0; i < PER_TWIN; i++) sim.setIdentity(twin.uuid, acmeSyncs.account, `RFID#s${t}x${i}`);
    }
    await sim.settle();
    simForward = await forwarder(Number(new URL(sim.baseUrl).port));
    const { port } = simForward.address() as { port: number };
    const source = await call(api, 'POST', '/sync/sources', acmeSyncs.secret, {
      name: 'upstream',
      base_url: `http://${BRIDGE_ADDRESS}:${port}`,
      secret: sim.addCredential(acmeSyncs.account),
      max_rate: 5000,
    });
    expect(source.status).toBe(201);

    const lines: string[] = [];
    for (let i = 0; i < IMPORT_LINES; i++)
      lines.push(JSON.stringify({ twin: twins[i % IMPORT_TWINS], identity: `RFID#imp-${i}` }));
    const uploaded = await fetch(new URL('/imports', base(apiHosts[1])), {
      method: 'POST',
      headers: { authorization: acme.secret, 'content-type': 'application/x-ndjson' },
      body: `${lines.join('\n')}\n`,
    });
    expect(uploaded.status).toBe(202);
    const importId = ((await uploaded.json()) as { uuid: string }).uuid;
    const run = await call(
      base(apiHosts[2]),
      'POST',
      `/sync/sources/${source.body.uuid}/runs`,
      acmeSyncs.secret,
      {
        mode: 'full',
      },
    );
    expect(run.status).toBe(202);

    // The victim is the worker host merging the import (its debug lines name the import), once the sync is under way.
    const count = async (sql: string, params: unknown[]) =>
      (await (pg as Client).query<{ n: number }>(sql, params)).rows[0].n;
    const victim = await until(
      'the import merge and the sync to be under way',
      async () => {
        const merging = workerHosts.find((h) => workers.get(h)?.output.includes(`import ${importId}: `));
        if (!merging) return undefined;
        const synced = await count('SELECT count(*)::int AS n FROM identities WHERE source = $1', [
          source.body.uuid,
        ]);
        return synced > 0 ? merging : undefined;
      },
      90_000,
      50,
    );
    const victimProcess = workers.get(victim) as HostProcess;
    victimProcess.signal('SIGKILL');
    expect((await victimProcess.exited).signal).toBe('SIGKILL');
    const killedAt = performance.now();
    const atKill = {
      imported: await count(
        `SELECT count(*)::int AS n FROM identities WHERE owner = $1 AND name LIKE 'RFID#imp-%'`,
        [acme.account],
      ),
      synced: await count('SELECT count(*)::int AS n FROM identities WHERE source = $1', [source.body.uuid]),
    };
    const importAtKill = await call(api, 'GET', `/imports/${importId}`, acme.secret);
    figure(
      `worker host ${victim.name} killed with ${atKill.imported}/${IMPORT_LINES} imported lines and ${atKill.synced}/${SYNC_TWINS * PER_TWIN} synced identities in the database (import ${importAtKill.body?.status})`,
    );
    expect(importAtKill.body?.status).not.toBe('completed');

    const report = await until(
      'the import to complete',
      async () => {
        const r = await call(api, 'GET', `/imports/${importId}`, acme.secret);
        if (r.body?.status === 'failed') throw new Error(`import failed: ${JSON.stringify(r.body)}`);
        return r.body?.status === 'completed' ? r.body : undefined;
      },
      120_000,
      250,
    );
    const runReport = await until(
      'the sync run to finish',
      async () => {
        const r = await call(api, 'GET', `/sync/runs/${run.body.uuid}`, acmeSyncs.secret);
        return r.body?.status === 'completed' || r.body?.status === 'failed' ? r.body : undefined;
      },
      120_000,
      250,
    );
    figure(
      `the surviving worker host finished the import and the sync ${Math.round((performance.now() - killedAt) / 1000)} s after the kill`,
    );
    expect(report.counts).toMatchObject({ received: IMPORT_LINES, imported: IMPORT_LINES, skipped: 0 });
    expect(runReport).toMatchObject({ status: 'completed', counts: { twins: SYNC_TWINS, failed: 0 } });
    expect(
      await count(`SELECT count(*)::int AS n FROM identities WHERE owner = $1 AND name LIKE 'RFID#imp-%'`, [
        acme.account,
      ]),
    ).toBe(IMPORT_LINES);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM (SELECT DISTINCT twin, name FROM identities WHERE owner = $1 AND name LIKE 'RFID#imp-%') d`,
        [acme.account],
      ),
    ).toBe(IMPORT_LINES);
    // What the workers wrote resolves on every API host (imported lines by acme, synced ones by the other account).
    for (const [i, host] of apiHosts.entries()) {
      const line = (i * 4999) % IMPORT_LINES;
      const imported = await call(
        base(host),
        'GET',
        `/resolve/${encodeURIComponent(`RFID#imp-${line}`)}`,
        acme.secret,
      );
      expect({ host: host.name, status: imported.status, twins: imported.body?.twins }).toEqual({
        host: host.name,
        status: 200,
        twins: [twins[line % IMPORT_TWINS]],
      });
      const synced = await call(
        base(host),
        'GET',
        `/resolve/${encodeURIComponent(`RFID#s${i}x0`)}`,
        acmeSyncs.secret,
      );
      expect({ host: host.name, status: synced.status, count: synced.body?.twins?.length }).toEqual({
        host: host.name,
        status: 200,
        count: 1,
      });
    }
    expect(await indexSnapshot(pg as Client, source.body.uuid)).toEqual(
      expectedSnapshot(sim, acmeSyncs.account, false),
    );
  }, 300_000);

  /**
   * The load client models a Kubernetes Service: an endpoint list holding the hosts whose /health/ready answered 200 at
   * the last look (every ENDPOINT_POLL_MS, as kubelet probes and the endpoint controller would), and callers that
   * spread their requests round-robin over that list over keep-alive connections, retrying nothing. A host that stops
   * being ready drops out of the list within one poll; whatever it receives until then it must still serve.
   */
  it('a rolling restart of the API hosts under load fails no request', async () => {
    const CALLERS = 6;
    const twin = await call(base(apiHosts[0]), 'POST', '/twins', acme.secret, {
      description: { rolling: true },
    });
    expect(twin.status).toBe(201);
    const endpoints = new Set<Host>(apiHosts);
    let loading = true;
    const poller = (async () => {
      while (loading) {
        await Promise.all(
          apiHosts.map(async (host) => {
            const r = await call(base(host), 'GET', '/health/ready');
            if (r.status === 200) endpoints.add(host);
            else endpoints.delete(host);
          }),
        );
        await sleep(ENDPOINT_POLL_MS);
      }
    })();
    let sent = 0;
    const failures: string[] = [];
    let next = 0;
    const caller = async () => {
      while (loading) {
        const list = [...endpoints];
        if (list.length === 0) {
          await sleep(20);
          continue;
        }
        const host = list[next++ % list.length];
        sent += 1;
        const r = await call(base(host), 'GET', `/twins/${twin.body.uuid}`, acme.secret);
        if (r.status !== 200)
          failures.push(`${host.name}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
    };
    const load = Promise.all(Array.from({ length: CALLERS }, caller));
    try {
      await sleep(2000);
      for (const host of apiHosts) {
        const stopping = apis.get(host) as HostProcess;
        const began = performance.now();
        stopping.signal('SIGTERM');
        const exit = await stopping.exited;
        expect({ host: host.name, exit }).toEqual({ host: host.name, exit: { code: 0, signal: null } });
        const stoppedMs = performance.now() - began;
        startApi(host, false);
        await ready(host);
        await until(
          `${host.name} back in the endpoint list`,
          async () => (endpoints.has(host) ? true : undefined),
          30_000,
        );
        figure(
          `rolling restart: ${host.name} stopped in ${Math.round(stoppedMs)} ms, serving again after ${Math.round(performance.now() - began)} ms`,
        );
      }
      await sleep(1000);
    } finally {
      loading = false;
      await load;
      await poller;
    }
    figure(`rolling restart: ${sent} requests over ${apiHosts.length} API hosts, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(100);
  }, 300_000);
});
