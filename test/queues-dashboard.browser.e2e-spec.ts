/**
 * The queue dashboard's login form in a real headless browser (playwright-core + the system's Chromium): the
 * operator key gets in, an account Admin's secret is kept out. Screenshots go to test-output/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { dropDatabase, ensureDatabase, runMigrations } from '../libs/store/database-setup.js';
import { ApiProcess } from './support/api-process.js';
import { isolatedConfig, OPERATOR_KEY, removeRedisKeys } from './support/test-env.js';
import { clearQueues } from './upstream-simulator/sync-harness.js';

const SCREENSHOTS = fileURLToPath(new URL('../test-output/screenshots/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SLOW = 180_000;

describe('queue dashboard login in a browser', () => {
  const config = isolatedConfig();
  let api: ApiProcess;
  let browser: Browser;
  let adminSecret: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureDatabase(config.DATABASE_URL);
    await runMigrations(config.DATABASE_URL);
    api = await ApiProcess.start(config);
    const res = await fetch(`${api.baseUrl}/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tenant' }),
    });
    adminSecret = ((await res.json()) as { secret: string }).secret;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, SLOW);
  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await clearQueues(config);
    await dropDatabase(config.DATABASE_URL);
    await removeRedisKeys(config);
  }, SLOW);

  it(
    "keeps an account Admin's secret out",
    async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${api.baseUrl}/queues`);
        expect(new URL(page.url()).pathname).toBe('/queues/login');
        await page.fill('input[name="key"]', adminSecret);
        const answer = page.waitForResponse(
          (r) => r.url().endsWith('/queues/login') && r.request().method() === 'POST',
        );
        await page.click('button[type="submit"]');
        expect((await answer).status()).toBe(401);
        await page.screenshot({ path: `${SCREENSHOTS}queues-login-admin-refused.png` });
        expect(await page.textContent('[role="alert"]')).toContain('not the operator key');
        const cookies = await page.context().cookies();
        expect(cookies.find((c) => c.name === 'twindex_queues')).toBeUndefined();
      } finally {
        await page.close();
      }
    },
    SLOW,
  );

  it(
    'lets the operator in through the form, with a strict session cookie',
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(`${api.baseUrl}/queues/login`);
        await page.screenshot({ path: `${SCREENSHOTS}queues-login-form.png` });
        await page.fill('input[name="key"]', OPERATOR_KEY);
        await Promise.all([page.waitForURL(/\/queues\/$/), page.click('button[type="submit"]')]);
        await page.waitForSelector('text=sync-twins', { timeout: 60_000 });
        await page.screenshot({ path: `${SCREENSHOTS}queues-dashboard-operator.png` });
        const cookie = (await context.cookies()).find((c) => c.name === 'twindex_queues');
        expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/queues' });
      } finally {
        await context.close();
      }
    },
    SLOW,
  );
});
