import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Request lines carry the trace that the response's X-Request-Id names. */
function lineWithTrace(file: string, trace: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.includes(`"trace":"${trace}"`));
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}

/**
 * docs/operations.md "Logs" / issue 11: buffered log lines reach the output within a second even when traffic is low
 * (a lone request's line must not wait for the next 12 KiB of traffic), and what is buffered is written out on
 * shutdown.
 */
describe('request log at idle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twindex-log-'));
  let api: TestApi | undefined;

  afterAll(async () => {
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a lone request line within a second', async () => {
    const file = join(dir, 'idle.log');
    api = await TestApi.start(isolatedConfig({ LOG_LEVEL: 'info' }), { logFile: file });
    await sleep(300);
    const res = await api.get('/health/live');
    const answered = performance.now();
    const trace = res.headers.get('x-request-id')!;
    let line = lineWithTrace(file, trace);
    while (!line && performance.now() - answered < 5000) {
      await sleep(20);
      line = lineWithTrace(file, trace);
    }
    const visibleAfterMs = performance.now() - answered;
    console.info(`log line visible ${Math.round(visibleAfterMs)} ms after the answer`);
    expect(line).toMatchObject({ msg: 'request', route: '/health/live', status: 200 });
    expect(visibleAfterMs).toBeLessThan(1000);
  });

  it('writes out what is buffered when the app closes', async () => {
    const file = join(dir, 'close.log');
    const closing = await TestApi.start(isolatedConfig({ LOG_LEVEL: 'info' }), { logFile: file });
    const trace = (await closing.get('/health/live')).headers.get('x-request-id')!;
    await closing.stop();
    let line = lineWithTrace(file, trace);
    // sonic-boom opens a file destination asynchronously; the flush itself happened at close.
    for (let i = 0; i < 50 && !line; i++) {
      await sleep(20);
      line = lineWithTrace(file, trace);
    }
    expect(line).toMatchObject({ msg: 'request', route: '/health/live' });
  });
});
