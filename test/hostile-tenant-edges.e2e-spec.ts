import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { aName, aTwin } from './support/factories.js';
import { isolatedConfig } from './support/test-env.js';
import { TestApi } from './support/test-app.js';

/**
 * Issue #20, "nothing unbounded at the edges": what a caller without any secret can do to an API instance with
 * bare TCP, and how the answers Fastify or node give before routing look. docs/http.md "Limits" has the values.
 */

// Low on purpose: the attack is sized for a 2-core test machine, not for the production defaults.
const PER_ADDRESS = 40;
const GLOBAL = 120;
const ATTACKERS = 300;
const REQUEST_TIMEOUT_MS = 1500;

let api: TestApi;
let port: number;
let logDir: string;
let logFile: string;

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'twindex-edges-'));
  logFile = join(logDir, 'api.log');
  api = await TestApi.start(
    isolatedConfig({
      LOG_LEVEL: 'info',
      HTTP_MAX_CONNECTIONS: String(GLOBAL),
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    }),
    { logFile },
  );
  port = Number(new URL(api.baseUrl).port);
});

afterAll(async () => {
  await api.stop();
  rmSync(logDir, { recursive: true, force: true });
});

interface RawAnswer {
  status: number | undefined;
  text: string;
  /** The connection ended (closed or reset), answered or not. */
  closed: boolean;
}

/** Opens a TCP connection from `localAddress`, writes `data` and collects what comes back until close or deadline. */
function rawExchange(data: string, deadlineMs: number, localAddress = '127.0.0.1'): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let text = '';
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      resolve({ status: status === undefined ? undefined : Number(status), text, closed });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.write(data);
  });
}

function bodyOf(answer: RawAnswer): Record<string, unknown> {
  const start = answer.text.indexOf('\r\n\r\n');
  return JSON.parse(answer.text.slice(start + 4)) as Record<string, unknown>;
}

function headerOf(answer: RawAnswer, name: string): string | undefined {
  const head = answer.text.slice(0, answer.text.indexOf('\r\n\r\n'));
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/** The request line that carries `trace`, read back from the log file (lines reach it within 200 ms). */
async function logLineWithTrace(trace: string): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const line = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes(`"trace":"${trace}"`));
    if (line !== undefined) return JSON.parse(line) as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

async function expectLoggedErrorShape(answer: RawAnswer, status: number): Promise<Record<string, unknown>> {
  expect(answer.status).toBe(status);
  const body = bodyOf(answer);
  expect(Object.keys(body).sort()).toEqual(['description', 'subcode', 'trace']);
  expect(typeof body.trace).toBe('string');
  expect(headerOf(answer, 'x-request-id')).toBe(body.trace);
  const line = await logLineWithTrace(body.trace as string);
  expect(line).toMatchObject({ msg: 'request', status, trace: body.trace });
  return body;
}

describe('hostile tenant: HTTP edges', () => {
  // main: the POST was still open (no status, not closed) when the 20 s deadline passed.
  it('cuts a request whose body never completes', async () => {
    const began = Date.now();
    const answer = await rawExchange(
      `POST /accounts HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`,
      20_000,
    );
    expect(answer.closed).toBe(true);
    await expectLoggedErrorShape(answer, 408);
    // Node checks its request deadlines once a second: the cut comes between the deadline and a few seconds later.
    expect(Date.now() - began).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
  }, 30_000);

  // Passes on main too: it guards the import exemption from the request deadline above.
  it('keeps receiving an import upload that flows steadily for longer than the request deadline', async () => {
    const owner = await api.createAccount('edges-importer');
    const twin = await aTwin(api, owner);
    const url = new URL('/imports', api.baseUrl);
    const began = Date.now();
    const status = await new Promise<number>((done, fail) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { authorization: owner.secret, 'content-type': 'application/x-ndjson' },
        },
        (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        },
      );
      req.on('error', fail);
      // About 60 KB a second for three times the request deadline: well above the import's progress window.
      let sent = 0;
      const chunks = Math.ceil((3 * REQUEST_TIMEOUT_MS) / 250);
      const tick = setInterval(() => {
        const lines = Array.from({ length: 150 }, () =>
          JSON.stringify({ twin: twin.uuid, identity: aName() }),
        );
        req.write(`${lines.join('\n')}\n`);
        if (++sent === chunks) {
          clearInterval(tick);
          req.end();
        }
      }, 250);
    });
    expect(Date.now() - began).toBeGreaterThan(2 * REQUEST_TIMEOUT_MS);
    expect(status).toBe(202);
  }, 60_000);

  // main: the headers of a request that never finishes them held the socket past the 20 s deadline.
  it('cuts a request whose headers never complete', async () => {
    const answer = await rawExchange(`GET /health/live HTTP/1.1\r\nhost: x\r\nx-slow: `, 20_000);
    expect(answer.closed).toBe(true);
    await expectLoggedErrorShape(answer, 408);
  }, 30_000);

  // main: all 300 attacker sockets stayed open (no per-address cap).
  it('refuses connections beyond the per-address cap and keeps serving another address', async () => {
    const attackers: Socket[] = [];
    try {
      const opened = await Promise.all(
        Array.from(
          { length: ATTACKERS },
          () =>
            new Promise<Socket>((resolve) => {
              const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
              attackers.push(s);
              s.on('error', () => undefined);
              s.on('connect', () => {
                // Complete headers, one body byte of a hundred: a request that holds its connection.
                s.write(
                  'POST /accounts HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{',
                );
                resolve(s);
              });
              s.on('close', () => resolve(s));
            }),
        ),
      );
      // Refused connections are closed by the server at once; give the closes a generous moment to arrive.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && opened.filter((s) => !s.destroyed).length > PER_ADDRESS) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(opened.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(PER_ADDRESS);

      const began = performance.now();
      const victim = await rawExchange(
        'GET /health/live HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
        5_000,
      );
      const ms = performance.now() - began;
      // The issue asks for "within a second"; an idle machine takes a few ms (logged). The bound is looser so
      // that a CPU burner cannot fail it, yet far below the forever a victim waited on main.
      console.log(`victim served in ${ms.toFixed(1)} ms while ${ATTACKERS} attacker connections were tried`);
      expect(victim.status).toBe(200);
      expect(ms).toBeLessThan(3000);
    } finally {
      for (const s of attackers) s.destroy();
    }
  }, 60_000);

  // main: Fastify's own {"error","message","statusCode"} 431, no trace.
  it('answers a 20,000-character path with the error shape, a logged trace and no echo', async () => {
    const path = `/twins/${'a'.repeat(20_000)}`;
    const answer = await rawExchange(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 10_000);
    const body = await expectLoggedErrorShape(answer, 431);
    expect(answer.text).not.toContain('a'.repeat(200));
    expect(body.subcode).toBe('headers_too_large');
  });

  // main: the 414 body's description held the whole 2,000-character path, and no log line had its trace.
  it('answers an over-long path parameter with 414, a short description and a logged trace', async () => {
    const path = `/twins/${'b'.repeat(2_000)}`;
    const answer = await rawExchange(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 10_000);
    const body = await expectLoggedErrorShape(answer, 414);
    expect(answer.text).not.toContain('b'.repeat(200));
    expect((body.description as string).length).toBeLessThanOrEqual(200);
  });

  // main: the 400 for a bad percent-encoding carried a trace that no log line had.
  it('answers a bad percent-encoding with 400 and a logged trace', async () => {
    const answer = await rawExchange(
      'GET /twins/%E0%A4%A HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
      10_000,
    );
    await expectLoggedErrorShape(answer, 400);
  });

  // main: node's own bare "HTTP/1.1 400 Bad Request" (no body) for a request line it cannot parse.
  it('answers a malformed request with the error shape and a logged trace', async () => {
    const answer = await rawExchange('GET /health/live HTTP/1.1\r\nbad header line\r\n\r\n', 10_000);
    const body = await expectLoggedErrorShape(answer, 400);
    expect(body.subcode).toBe('bad_request');
  });
});
