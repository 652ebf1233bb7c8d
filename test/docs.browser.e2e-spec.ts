import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { dropDatabase, ensureDatabase, runMigrations } from '../libs/store/database-setup.js';
import { aName } from './support/factories.js';
import { isolatedConfig, OPERATOR_KEY, removeRedisKeys } from './support/test-env.js';

/** Where a person finds what the browser saw. */
export const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * Swagger UI at /docs in headless Chromium, as an operator uses it: "Authorize" with a secret, then "Try it out" on
 * GET /resolve/{identity} (a lean Fastify route) and GET /twins answer 200. The page's static files need the built
 * app (Jest's module runtime cannot load the static-file plugin), so the test builds and spawns dist/apps/api/main.js
 * with its own database and Redis prefix.
 */
describe('Swagger UI in a browser', () => {
  const config = isolatedConfig();
  let api: ChildProcess;
  let output = '';
  let base: string;
  let browser: Browser;
  let page: Page;
  let secret: string;
  let identity: string;
  let twinUuid: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    // The app under test is the build of these sources (TWINDEX_TEST_NO_BUILD=1 reuses dist/ when iterating).
    if (process.env.TWINDEX_TEST_NO_BUILD !== '1') {
      execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
        stdio: 'inherit',
      });
    }
    await ensureDatabase(config.DATABASE_URL);
    await runMigrations(config.DATABASE_URL);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
    api = spawn(process.execPath, ['dist/apps/api/main.js'], {
      env: {
        ...inherited,
        NODE_ENV: 'test',
        DATABASE_URL: config.DATABASE_URL,
        REDIS_URL: config.REDIS_URL,
        REDIS_PREFIX: config.REDIS_PREFIX,
        HOST: '127.0.0.1',
        PORT: String(port),
        TWINDEX_OPERATOR_KEY: OPERATOR_KEY,
        MIGRATIONS_RUN: 'false',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    api.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 90_000;
    for (;;) {
      const ok = await fetch(`${base}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (api.exitCode !== null || Date.now() > deadline) throw new Error(`api did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const account = await fetch(`${base}/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'browser' }),
    }).then((r) => r.json() as Promise<{ secret: string }>);
    secret = account.secret;
    const twin = await fetch(`${base}/twins`, {
      method: 'POST',
      headers: { authorization: secret, 'content-type': 'application/json' },
      body: '{}',
    }).then((r) => r.json() as Promise<{ uuid: string }>);
    twinUuid = twin.uuid;
    identity = aName();
    const attached = await fetch(`${base}/twins/${twin.uuid}/identities`, {
      method: 'POST',
      headers: { authorization: secret, 'content-type': 'application/json' },
      body: JSON.stringify({ identities: { [identity]: { visibility: null } } }),
    });
    expect(attached.status).toBe(201);

    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (api && api.exitCode === null) {
      const exited = new Promise((r) => api.once('exit', r));
      api.kill('SIGTERM');
      await exited;
    }
    await dropDatabase(config.DATABASE_URL);
    await removeRedisKeys(config);
  }, 60_000);

  /** Expands an operation, presses "Try it out", fills the given parameters, executes, and reads the status. */
  async function tryItOut(operationId: string, tag: string, params: Record<string, string>): Promise<string> {
    const block = page.locator(`#operations-${tag}-${operationId}`);
    await block.locator('.opblock-summary').first().click();
    await block.locator('button.try-out__btn').click();
    for (const [name, value] of Object.entries(params)) {
      await block.locator(`tr[data-param-name="${name}"] input`).fill(value);
    }
    await block.locator('button.execute').click();
    const status = block.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    await block.scrollIntoViewIfNeeded();
    return (await status.innerText()).trim();
  }

  it('"Authorize" with a secret, then "Try it out" on GET /resolve/{identity} and GET /twins answer 200', async () => {
    await page.goto(`${base}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor({ timeout: 30_000 });

    await page.locator('button.authorize').first().click();
    const modal = page.locator('.dialog-ux .modal-ux');
    // The `secret` scheme's section: the first apiKey section names it.
    const section = modal.locator('.auth-container').filter({ hasText: 'secret' }).first();
    await section.locator('input').first().fill(secret);
    await section.locator('button.authorize').click();
    await page.screenshot({ path: join(SCREENSHOTS, 'docs-authorized.png') });
    await modal.locator('button.btn-done').first().click();

    const resolved = await tryItOut('resolve_twin_identity', 'resolve', { identity });
    await page.screenshot({ path: join(SCREENSHOTS, 'docs-resolve-try-it-out.png'), fullPage: false });
    expect(resolved).toBe('200');
    // The answer is the real one: the browser's request carried the secret and found the twin.
    const body = page
      .locator(
        '#operations-resolve-resolve_twin_identity .live-responses-table .response-col_description pre',
      )
      .first();
    expect(await body.innerText()).toContain(twinUuid);

    const scanned = await tryItOut('scan_twins', 'twins', {});
    await page.screenshot({ path: join(SCREENSHOTS, 'docs-twins-try-it-out.png'), fullPage: false });
    expect(scanned).toBe('200');
  });
});
