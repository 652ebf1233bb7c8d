/**
 * A hostile upstream: the simulator, driven by tenant B, answering with data that claims what B does not own —
 * another account's twin UUID (to change, terminate or decorate it), another account as owner of a new twin, and
 * identities pushed onto those twins. Twindex must refuse every claim and report it in the run.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { UpstreamSimulator } from './simulator.js';

export interface HostileClaims {
  /** A twin that exists here under the victim: upstream says it is B's, rewrites and terminates it. */
  hijackedTwin: string;
  /** A twin new here whose upstream owner is the victim's account. */
  plantedTwin: string;
  /** A plain twin of B, which must sync as usual (the control). */
  ownTwin: string;
  /** The identity B pushes onto the victim's twins, publicly visible. */
  identity: string;
}

export function stageHostileUpstream(
  sim: UpstreamSimulator,
  attacker: string,
  victim: string,
  victimTwin: string,
): HostileClaims {
  const identity = `RFID#${randomUUID()}`;
  const hijacked = sim.addTwin(attacker, { note: 'taken over' }, victimTwin);
  sim.setIdentity(hijacked.uuid, attacker, identity, { visibility: 'true' });
  sim.terminateTwin(hijacked.uuid);
  const planted = sim.addTwin(victim, { note: 'planted' });
  sim.setIdentity(planted.uuid, attacker, identity, { visibility: 'true' });
  const own = sim.addTwin(attacker, { note: 'mine' });
  sim.setIdentity(own.uuid, attacker, identity, { visibility: 'true' });
  return { hijackedTwin: hijacked.uuid, plantedTwin: planted.uuid, ownTwin: own.uuid, identity };
}

/** How an endless upstream answers `GET /twins`. */
export type EndlessPaging =
  /** The same twins on every page, each time under a fresh cursor: paging that makes no progress. */
  | 'same-twins'
  /** New twins on every page under a fresh cursor: progress that never ends. */
  | 'new-twins'
  /** No twins at all, under a fresh cursor each time: nothing is written per page, only the credential travels. */
  | 'empty'
  /** A page whose body trickles in a few bytes at a time, so no single read ever waits long. */
  | 'drip';

/**
 * An upstream whose scan never ends. It answers any credential and records each request with the time it arrived,
 * so a test can count what reached it after a given moment. Twins themselves answer 404 (quick twin jobs).
 */
export class EndlessUpstream {
  /** Authorization header and arrival time (ms) of every request. */
  readonly requests: Array<{ credential: string; at: number; path: string }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private page = 0;

  private constructor(
    private readonly server: Server,
    readonly paging: EndlessPaging,
    private readonly dripMs: number,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(paging: EndlessPaging, options: { dripMs?: number } = {}): Promise<EndlessUpstream> {
    const server = createServer();
    const upstream = new EndlessUpstream(server, paging, options.dripMs ?? 200);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests that carried `credential` at or after `sinceMs`. */
  countSince(credential: string, sinceMs: number): number {
    return this.requests.filter((r) => r.credential === credential && r.at >= sinceMs).length;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://upstream');
    this.requests.push({
      credential: String(req.headers.authorization ?? ''),
      at: Date.now(),
      path: url.pathname,
    });
    if (url.pathname !== '/twins') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"subcode":"not_found"}');
      return;
    }
    this.page += 1;
    const size = Math.max(1, Math.min(50, Number(url.searchParams.get('limit') ?? 10)));
    const twins =
      this.paging === 'empty'
        ? []
        : this.paging === 'same-twins'
          ? Array.from({ length: size }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
          : Array.from({ length: size }, () => randomUUID());
    const body = JSON.stringify({ twins, cursor: `c-${this.page}-${randomUUID()}` });
    if (this.paging !== 'drip') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    let at = 0;
    const timer = setInterval(() => {
      if (at >= body.length) {
        clearInterval(timer);
        this.timers.delete(timer);
        res.end();
        return;
      }
      res.write(body.slice(at, at + 8));
      at += 8;
    }, this.dripMs);
    this.timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      this.timers.delete(timer);
    });
  }
}

/**
 * An upstream that answers `GET /twins` with a page of `bytes` bytes, streamed (chunked, no Content-Length) as
 * one valid twin object padded inside its description, so the page is well-formed JSON whatever its size and is
 * never held whole by this server either. Writing stops when the reader goes away. Any other path answers 404.
 */
export class HugePageUpstream {
  /** Bytes actually written to the last `GET /twins`, and whether the client hung up before the end. */
  readonly sent = { bytes: 0, cutShort: false, requests: 0 };

  private constructor(
    private readonly server: Server,
    private readonly bytes: number,
  ) {}

  static async start(owner: string, bytes: number): Promise<HugePageUpstream> {
    const holder: { upstream?: HugePageUpstream } = {};
    const server = createServer((req, res) => void holder.upstream?.handle(owner, req.url ?? '/', res));
    const upstream = new HugePageUpstream(server, bytes);
    holder.upstream = upstream;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(owner: string, url: string, res: ServerResponse): Promise<void> {
    if (new URL(url, 'http://x').pathname !== '/twins') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    this.sent.requests++;
    this.sent.bytes = 0;
    this.sent.cutShort = false;
    const head = `{"twins":[{"uuid":"${randomUUID()}","owner":"${owner}","status":"alive","updated_ts":1,"creation_certificate":{"created_ts":1},"description":{"padding":"`;
    const tail = `"}}],"cursor":null}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    let closed = false;
    res.on('close', () => (closed = true));
    const write = async (chunk: string) => {
      this.sent.bytes += chunk.length;
      if (res.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done).off('close', done);
          resolve();
        };
        res.on('drain', done).on('close', done);
      });
    };
    await write(head);
    const block = 'x'.repeat(64 * 1024);
    let left = this.bytes - head.length - tail.length;
    while (left > 0 && !closed) {
      await write(left >= block.length ? block : block.slice(0, left));
      left -= block.length;
    }
    if (closed) {
      this.sent.cutShort = true;
      return;
    }
    res.end(tail);
    this.sent.bytes += tail.length;
  }
}
