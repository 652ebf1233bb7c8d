import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a receiver does with one POST: answer at once with a status, or never answer (a hanging callback). */
export type Behaviour = { status: number; retryAfter?: number; delayMs?: number } | 'hang';

export interface Received {
  path: string;
  body: any;
  at: number;
}

/**
 * A local notification receiver: records every POST by path and answers as `behave` says for that path. Hanging
 * requests are held until `close()`.
 */
export class CallbackReceiver {
  readonly received: Received[] = [];
  private readonly hanging = new Set<ServerResponse>();
  behave: (path: string, body: any) => Behaviour = () => ({ status: 200 });

  private constructor(
    private readonly server: Server,
    readonly base: string,
  ) {}

  static async start(): Promise<CallbackReceiver> {
    const handler: { receiver?: CallbackReceiver } = {};
    const server = createServer((req, res) => handler.receiver!.handle(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    handler.receiver = new CallbackReceiver(server, `http://127.0.0.1:${port}`);
    return handler.receiver;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async waitFor(path: string, count: number, timeoutMs = 20_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.at(path).length < count) {
      if (Date.now() > deadline)
        throw new Error(`${path}: ${this.at(path).length} of ${count} POSTs within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.at(path);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      const path = req.url ?? '/';
      this.received.push({ path, body, at: Date.now() });
      const behaviour = this.behave(path, body);
      if (behaviour === 'hang') {
        this.hanging.add(res);
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (behaviour.retryAfter !== undefined) headers['retry-after'] = String(behaviour.retryAfter);
      const answer = () => res.writeHead(behaviour.status, headers).end('{}');
      if (behaviour.delayMs) setTimeout(answer, behaviour.delayMs);
      else answer();
    });
  }
}
