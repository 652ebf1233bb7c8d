/**
 * A hostile upstream: the simulator, driven by tenant B, answering with data that claims what B does not own —
 * another account's twin UUID (to change, terminate or decorate it), another account as owner of a new twin, and
 * identities pushed onto those twins. Twindex must refuse every claim and report it in the run.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
