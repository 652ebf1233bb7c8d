import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  flowing: boolean;
}

/**
 * A TCP proxy in front of a real service (PostgreSQL here) that a test can take down and bring back on the same
 * port, to see how the app behaves when its dependency disappears — without touching the shared server.
 *
 * Two kinds of outage: `stop()` refuses and cuts connections (a crashed server: the app gets errors at once), and
 * `blackhole()` keeps every connection open but lets nothing through in either direction (a silent network partition:
 * no error ever arrives, only deadlines help). `heal()` ends the partition; bytes held back are then delivered, as
 * TCP would once the path is back.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private silent = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts listening (again, on the same port); a proxy already listening stays as it is. */
  async start(port = this.port): Promise<number> {
    if (this.server) return this.port;
    const server = createServer((client) => {
      const upstream = createConnection(this.targetPort, this.targetHost);
      const pair: Pair = { client, upstream, flowing: false };
      this.pairs.add(pair);
      for (const s of [client, upstream]) {
        s.on('close', () => this.pairs.delete(pair));
        s.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      if (this.silent) hold(pair);
      else flow(pair);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.server = server;
    return this.port;
  }

  /** Refuses new connections and cuts the open ones, as a crashed or unreachable server would. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A silent partition: connections (open and new) stay up, but not a byte crosses, and no error is raised. */
  blackhole(): void {
    this.silent = true;
    for (const pair of this.pairs) hold(pair);
  }

  /** Ends the partition: held bytes and everything after them flow again. */
  heal(): void {
    this.silent = false;
    for (const pair of this.pairs) flow(pair);
  }
}

function flow(pair: Pair): void {
  if (pair.flowing) return;
  pair.flowing = true;
  pair.client.pipe(pair.upstream);
  pair.upstream.pipe(pair.client);
}

function hold(pair: Pair): void {
  const { client, upstream } = pair;
  pair.flowing = false;
  client.unpipe(upstream);
  upstream.unpipe(client);
  // Paused sockets keep what arrives in their buffers (then the kernel's), like packets stuck on a dead link.
  client.pause();
  upstream.pause();
}
