import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SourceLimiter } from '../admission/source-limiter.js';
import { UpstreamAddressPolicy } from './upstream-address.js';
import {
  DEFAULT_BODY_LIMITS,
  parseRetryAfter,
  type UpstreamBodyLimits,
  UpstreamClient,
  UpstreamError,
} from './upstream-client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('UpstreamClient', () => {
  let server: Server;
  let handlers: Handler[];
  let seen: string[];
  let sleeps: number[];

  // Timeouts generous enough that a busy machine never turns a prompt answer into a retry; the one test about
  // timeouts sets its own short one on a request that is never answered.
  const client = (
    policy: Partial<{ timeoutMs: number; maxAttempts: number }> = {},
    limits: Partial<UpstreamBodyLimits> = {},
  ) =>
    new UpstreamClient({
      limits: { ...DEFAULT_BODY_LIMITS, ...limits },
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
      secret: 'the-secret',
      addresses: new UpstreamAddressPolicy(['127.0.0.1']),
      limiter: new SourceLimiter({ concurrency: 2, ratePerSecond: 1000 }),
      policy: {
        timeoutMs: 30_000,
        maxAttempts: 3,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        maxRetryAfterMs: 5000,
        ...policy,
      },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    });
  const json =
    (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
    (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
  const twin = {
    uuid: '33333333-3333-4333-8333-333333333333',
    owner: 'o',
    status: 'alive',
    creation_certificate: { created_ts: 1 },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      const handler = handlers.shift() ?? json(500, {});
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    // undici loads lazily: one call first (one attempt, so nothing of it can reach the server during a test).
    handlers = [json(200, {})];
    seen = [];
    await client({ maxAttempts: 1 })
      .getTwin('warm-up')
      .catch(() => undefined);
  });
  afterAll(async () => {
    server.closeAllConnections(); // the request left unanswered on purpose, too
    await new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    handlers = [];
    seen = [];
    sleeps = [];
  });

  it('sends the secret and the page size as both count and limit', async () => {
    handlers.push(json(200, { twins: ['a'], cursor: null }));
    const page = await client().scanTwins({ pageSize: 50, cursor: 'c1', updatedSince: 12.5 });
    expect(page).toEqual({ twins: ['a'], cursor: null });
    expect(seen).toEqual([
      '/api/twins?details=True&count=50&limit=50&cursor=c1&updated_since=12.500 the-secret',
    ]);
  });

  it('waits as long as Retry-After says on 429, then retries', async () => {
    handlers.push(json(429, {}, { 'retry-after': '2' }), json(200, twin));
    const c = client();
    expect(await c.getTwin(twin.uuid)).toMatchObject({ owner: 'o' });
    expect(sleeps).toEqual([2000]);
    expect(c.retries).toBe(1);
  });

  it('backs off exponentially with jitter on 5xx and gives up after the last attempt', async () => {
    handlers.push(json(500, {}), json(502, {}), json(503, {}));
    const c = client();
    await expect(c.getTwin(twin.uuid)).rejects.toMatchObject({ retryable: true, status: 503 });
    expect(sleeps).toEqual([75, 150]);
  });

  it('retries a dropped connection', async () => {
    handlers.push((req) => req.socket.destroy(), json(200, twin));
    expect(await client().getTwin(twin.uuid)).toMatchObject({ owner: 'o' });
    expect(sleeps).toHaveLength(1);
  });

  it('gives up on an answer that never comes after the timeout, as a retryable failure', async () => {
    handlers.push(() => undefined);
    await expect(client({ timeoutMs: 300, maxAttempts: 1 }).getTwin(twin.uuid)).rejects.toMatchObject({
      retryable: true,
    });
    expect(seen).toHaveLength(1);
  });

  it('answers null for 404 on a twin, and fails at once on 401', async () => {
    handlers.push(json(404, {}), json(401, {}));
    const c = client();
    expect(await c.getTwin(twin.uuid)).toBeNull();
    await expect(c.getIdentities(twin.uuid, false)).rejects.toEqual(expect.any(UpstreamError));
    expect(sleeps).toEqual([]);
  });

  it('never reads an answer of the wrong shape as empty', async () => {
    handlers.push(json(200, { nothing: true }));
    await expect(client().getIdentities(twin.uuid, true)).rejects.toMatchObject({ retryable: false });
  });
});

describe('UpstreamClient body limits and deadline', () => {
  let server: Server;
  let handler: Handler;
  let requests: number;
  let written: number;
  const client = (timeoutMs: number, limits: Partial<UpstreamBodyLimits> = {}) =>
    new UpstreamClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      secret: 's',
      addresses: new UpstreamAddressPolicy(['127.0.0.1']),
      limiter: new SourceLimiter({ concurrency: 2, ratePerSecond: 1000 }),
      policy: { timeoutMs, maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
      limits: { ...DEFAULT_BODY_LIMITS, ...limits },
      sleep: async () => undefined,
    });
  /** A JSON page of about `bytes` bytes, chunked (no Content-Length), written as fast as the reader takes it. */
  const bigPage =
    (bytes: number): Handler =>
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let closed = false;
      res.on('close', () => (closed = true));
      res.write('{"twins":["');
      const block = 'a'.repeat(16 * 1024);
      const pump = () => {
        while (!closed && written < bytes) {
          written += block.length;
          if (!res.write(block)) return void res.once('drain', pump);
        }
        if (!closed) res.end('"],"cursor":null}');
      };
      pump();
    };

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    requests = 0;
    written = 0;
  });

  it('stops reading a page past SYNC_MAX_PAGE_BYTES and fails it for good, naming the limit', async () => {
    handler = bigPage(20 * 1024 * 1024);
    const failure = client(30_000, { maxPageBytes: 256 * 1024 }).scanTwins({ pageSize: 10 });
    await expect(failure).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('larger than 262144 bytes (SYNC_MAX_PAGE_BYTES)'),
    });
    expect(requests).toBe(1);
    // Cut off near the limit (socket buffers aside), not read to the end.
    expect(written).toBeLessThan(10 * 1024 * 1024);
  });

  it('refuses an announced Content-Length over the limit without reading the body', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) });
      res.write('{');
    };
    await expect(
      client(30_000, { maxIdentityListBytes: 1024 }).getIdentities('t', false),
    ).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('(SYNC_MAX_IDENTITY_LIST_BYTES)'),
    });
  });

  it('fails a twin with more identities than SYNC_MAX_IDENTITIES_PER_TWIN, for good', async () => {
    const names: Record<string, unknown> = {};
    for (let i = 0; i < 11; i++) names[`RFID#${i}`] = { created_ts: 1, updated_ts: 1 };
    handler = (_req, res) => res.writeHead(200).end(JSON.stringify({ accounts: { a: names } }));
    await expect(client(30_000, { maxIdentitiesPerTwin: 10 }).getIdentities('t', true)).rejects.toMatchObject(
      {
        retryable: false,
        message: expect.stringContaining('11 identities, more than the 10'),
      },
    );
  });

  it('cuts a body that trickles in (every read on time) at the whole-response deadline', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"twins":["');
      const timer = setInterval(() => res.write('a'), 50);
      res.on('close', () => clearInterval(timer));
    };
    const started = Date.now();
    await expect(client(500).scanTwins({ pageSize: 10 })).rejects.toMatchObject({
      retryable: true,
      message: expect.stringContaining('timed out'),
    });
    // Three attempts of 0.5 s each; generous for a busy machine, far below a body that never ends.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(requests).toBe(3);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});
