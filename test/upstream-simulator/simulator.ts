/**
 * A Trusted Twin-compatible upstream over real HTTP (node:http), speaking the subset sync consumes:
 * `GET /twins` (cursor paging, `count`/`limit`, `updated_since`, `details`), `GET /twins/{twin}` and
 * `GET /twins/{twin}/identities` (`show_foreign`). Knobs: latency, page size and shape, 429 with Retry-After,
 * 500s, dropped connections, hung calls — each every Nth request, or for the next N requests, or for one path.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SimIdentity {
  visibility: string | null;
  validity_ts: number | null;
  created_ts: number;
  updated_ts: number;
}

export interface SimTwin {
  uuid: string;
  owner: string;
  status: 'alive' | 'terminated';
  description: Record<string, unknown>;
  created_ts: number;
  updated_ts: number;
  terminated_ts: number | null;
  /** account → name → identity */
  identities: Map<string, Map<string, SimIdentity>>;
}

export type Fault = '429' | '500' | 'drop' | 'hang';

export interface SimulatorKnobs {
  latencyMs: number;
  /** Largest page the upstream serves, whatever is asked. */
  maxPageSize: number;
  /** `uuids`: Trusted Twin's scan_twins; `objects`: Twindex with details=true. */
  pageShape: 'uuids' | 'objects';
  /** An upstream that does not know `updated_since` returns everything. */
  ignoreUpdatedSince: boolean;
  /** Seconds sent in Retry-After with a 429. */
  retryAfterSeconds: number;
  /** Every Nth request (counted over all requests) gets this fault; 0 = never. */
  every: Partial<Record<Fault, number>>;
}

const DEFAULT_KNOBS: SimulatorKnobs = {
  latencyMs: 0,
  maxPageSize: 1000,
  pageShape: 'objects',
  ignoreUpdatedSince: false,
  retryAfterSeconds: 1,
  every: {},
};

const nowTs = () => Math.round(Date.now()) / 1000;

export class UpstreamSimulator {
  readonly twins = new Map<string, SimTwin>();
  readonly knobs: SimulatorKnobs;
  /** Requests seen, by outcome. */
  readonly stats = { requests: 0, faults: { '429': 0, '500': 0, drop: 0, hang: 0 } as Record<Fault, number> };
  /** Every Authorization header received, in order: exfiltration tests check what reached this host. */
  readonly credentialsSeen: string[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly scripted: Fault[] = [];
  private readonly pathFaults = new Map<string, Fault>();
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  private lastTs = 0;

  private readonly server: Server;

  private constructor(knobs: Partial<SimulatorKnobs>) {
    this.knobs = { ...DEFAULT_KNOBS, ...knobs, every: { ...(knobs.every ?? {}) } };
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(knobs: Partial<SimulatorKnobs> = {}): Promise<UpstreamSimulator> {
    const sim = new UpstreamSimulator(knobs);
    await new Promise<void>((resolve) => sim.server.listen(0, '127.0.0.1', resolve));
    return sim;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A credential of `account` at this upstream. */
  addCredential(account: string, secret = `sim-${randomUUID()}`): string {
    this.secrets.set(secret, account);
    return secret;
  }

  /** The next `count` requests get `fault`, before any periodic one. */
  failNext(fault: Fault, count = 1): void {
    for (let i = 0; i < count; i++) this.scripted.push(fault);
  }

  /** Every request whose path is exactly `path` gets `fault` (undefined clears it). */
  failPath(path: string, fault: Fault | undefined): void {
    if (fault === undefined) this.pathFaults.delete(path);
    else this.pathFaults.set(path, fault);
  }

  // ---- data ------------------------------------------------------------------------------------------------------

  /** A strictly increasing clock, so every change moves updated_ts forward. */
  tick(): number {
    this.lastTs = Math.max(nowTs(), Math.round((this.lastTs + 0.001) * 1000) / 1000);
    return this.lastTs;
  }

  /** Waits until the wall clock has caught up with the timestamps handed out (a burst of changes runs ahead). */
  async settle(): Promise<void> {
    const ahead = this.lastTs * 1000 - Date.now();
    if (ahead > 0) await new Promise((r) => setTimeout(r, ahead + 5));
  }

  addTwin(owner: string, description: Record<string, unknown> = {}, uuid: string = randomUUID()): SimTwin {
    const ts = this.tick();
    const twin: SimTwin = {
      uuid,
      owner,
      status: 'alive',
      description,
      created_ts: ts,
      updated_ts: ts,
      terminated_ts: null,
      identities: new Map(),
    };
    this.twins.set(uuid, twin);
    return twin;
  }

  /** Creates or replaces an identity; the twin's updated_ts moves too, so incremental scans see the change. */
  setIdentity(
    twin: string,
    account: string,
    name: string,
    attrs: { visibility?: string | null; validity_ts?: number | null } = {},
  ): void {
    const t = this.mustTwin(twin);
    const ts = this.tick();
    let byName = t.identities.get(account);
    if (!byName) t.identities.set(account, (byName = new Map()));
    const existing = byName.get(name);
    byName.set(name, {
      visibility: attrs.visibility !== undefined ? attrs.visibility : (existing?.visibility ?? null),
      validity_ts: attrs.validity_ts !== undefined ? attrs.validity_ts : (existing?.validity_ts ?? null),
      created_ts: existing?.created_ts ?? ts,
      updated_ts: ts,
    });
    t.updated_ts = ts;
  }

  deleteIdentity(twin: string, account: string, name: string): void {
    const t = this.mustTwin(twin);
    t.identities.get(account)?.delete(name);
    t.updated_ts = this.tick();
  }

  terminateTwin(twin: string): void {
    const t = this.mustTwin(twin);
    const ts = this.tick();
    t.status = 'terminated';
    t.terminated_ts = ts;
    t.updated_ts = ts;
  }

  removeTwin(twin: string): void {
    this.twins.delete(twin);
  }

  private mustTwin(uuid: string): SimTwin {
    const t = this.twins.get(uuid);
    if (!t) throw new Error(`simulator has no twin ${uuid}`);
    return t;
  }

  // ---- HTTP ------------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    if (req.headers.authorization !== undefined) this.credentialsSeen.push(req.headers.authorization);
    const url = new URL(req.url ?? '/', 'http://sim');
    const fault = this.faultFor(url.pathname);
    if (this.knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, this.knobs.latencyMs));
    if (fault) {
      this.stats.faults[fault]++;
      switch (fault) {
        case '429':
          return send(
            res,
            429,
            { subcode: 'rate_limited' },
            { 'retry-after': String(this.knobs.retryAfterSeconds) },
          );
        case '500':
          return send(res, 500, { subcode: 'internal_error' });
        case 'drop':
          // Headers and half a body, then the connection is gone.
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
          res.write('{"accounts": {');
          req.socket.destroy();
          return;
        case 'hang':
          this.hung.add(res);
          res.on('close', () => this.hung.delete(res));
          return;
      }
    }
    const account = this.secrets.get(String(req.headers.authorization ?? ''));
    if (!account) return send(res, 401, { subcode: 'unauthorized' });
    if (req.method !== 'GET') return send(res, 405, { subcode: 'method_not_allowed' });
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts.length === 1 && parts[0] === 'twins') return this.scan(url, res);
    const twin = parts[0] === 'twins' && parts[1] ? this.twins.get(parts[1]) : undefined;
    if (parts.length === 2 && parts[0] === 'twins') {
      return twin ? send(res, 200, twinObject(twin)) : send(res, 404, { subcode: 'not_found' });
    }
    if (parts.length === 3 && parts[0] === 'twins' && parts[2] === 'identities') {
      if (!twin) return send(res, 404, { subcode: 'not_found' });
      return send(
        res,
        200,
        identitiesOf(twin, account, url.searchParams.get('show_foreign')?.toLowerCase() === 'true'),
      );
    }
    return send(res, 404, { subcode: 'not_found' });
  }

  private faultFor(path: string): Fault | undefined {
    const scripted = this.scripted.shift();
    if (scripted) return scripted;
    const byPath = this.pathFaults.get(path);
    if (byPath) return byPath;
    for (const fault of ['429', '500', 'drop', 'hang'] as const) {
      const n = this.knobs.every[fault];
      if (n && this.stats.requests % n === 0) return fault;
    }
    return undefined;
  }

  private scan(url: URL, res: ServerResponse): void {
    const asked = Number(url.searchParams.get('count') ?? url.searchParams.get('limit') ?? 100);
    const size = Math.max(1, Math.min(asked, this.knobs.maxPageSize));
    const since = url.searchParams.get('updated_since');
    const cursor = url.searchParams.get('cursor');
    let after: [number, string] | undefined;
    if (cursor) after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
    const ordered = [...this.twins.values()]
      .filter((t) => this.knobs.ignoreUpdatedSince || since === null || t.updated_ts >= Number(since))
      .sort((a, b) => a.updated_ts - b.updated_ts || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0))
      .filter((t) => !after || t.updated_ts > after[0] || (t.updated_ts === after[0] && t.uuid > after[1]));
    const page = ordered.slice(0, size);
    const more = ordered.length > size;
    const last = page[page.length - 1];
    send(res, 200, {
      twins: this.knobs.pageShape === 'uuids' ? page.map((t) => t.uuid) : page.map(twinObject),
      cursor:
        more && last ? Buffer.from(JSON.stringify([last.updated_ts, last.uuid])).toString('base64url') : null,
    });
  }
}

export function twinObject(t: SimTwin): Record<string, unknown> {
  const out: Record<string, unknown> = {
    uuid: t.uuid,
    owner: t.owner,
    status: t.status,
    description: t.description,
    updated_ts: t.updated_ts,
    creation_certificate: { uuid: t.uuid, creator: t.owner, created_ts: t.created_ts },
  };
  if (t.terminated_ts !== null)
    out.termination_certificate = { issuer: t.owner, terminated_ts: t.terminated_ts };
  return out;
}

/** Personal identities of every kind with their rule; foreign ones (on request) only while valid, without rule. */
function identitiesOf(t: SimTwin, account: string, showForeign: boolean): Record<string, unknown> {
  const accounts: Record<string, Record<string, unknown>> = {};
  const now = Date.now() / 1000;
  for (const [owner, byName] of t.identities) {
    const personal = owner === account;
    if (!personal && !showForeign) continue;
    const entries: Record<string, unknown> = {};
    for (const [name, i] of byName) {
      if (personal) entries[name] = { ...i };
      else if (i.validity_ts === null || i.validity_ts > now) {
        entries[name] = { validity_ts: i.validity_ts, created_ts: i.created_ts, updated_ts: i.updated_ts };
      }
    }
    if (Object.keys(entries).length) accounts[owner] = entries;
  }
  return { accounts };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
