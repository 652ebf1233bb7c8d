import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Pool } from 'pg';
import { aName, aTwin, expectStatus } from './support/factories.js';
import { TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { clearQueues, startWorker } from './upstream-simulator/sync-harness.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/twindex.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, whatever its exit code. */
function run(file: string, args: string[], env: Record<string, string>, cwd = ROOT): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { cwd, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * The `twindex` command line run as a user runs it (`bin/twindex.js` on the compiled code), against a real API and
 * worker; and the README's quick start run as written, on a database without any account and an API without an
 * operator key.
 */
describe('twindex CLI and the README quick start', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let pool: Pool;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    // The bin runs the compiled CLI: compile this tree first, as `npm start` would.
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
      },
    );
    // A first run: no operator key configured.
    api = await TestApi.start(isolatedConfig({ TWINDEX_OPERATOR_KEY: '' }));
    worker = await startWorker(api.config);
    pool = new Pool({ connectionString: api.config.DATABASE_URL, max: 1 });
    env = { DATABASE_URL: api.config.DATABASE_URL, TWINDEX_URL: api.baseUrl, LOG_LEVEL: 'silent' };
    delete process.env.TWINDEX_SECRET;
    dir = mkdtempSync(join(tmpdir(), 'twindex-cli-'));
  }, 300_000);

  afterAll(async () => {
    await worker?.close();
    await pool?.end();
    if (api) await clearQueues(api.config);
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  describe('the README quick start', () => {
    it('runs as written on a fresh database, each step answering as the README says', async () => {
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const block = /<!-- quick-start[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(block).toBeDefined();
      // Steps: a command (with its `\` continuation lines), then the "# →" answers expected of it.
      const steps: Array<{ command: string; expect: string[] }> = [];
      for (const line of block!.split('\n')) {
        const answer = /^# → ?(.*)$/.exec(line);
        if (answer) steps[steps.length - 1].expect.push(answer[1]);
        else if (line.trim() === '') continue;
        else if (steps.length > 0 && steps[steps.length - 1].command.endsWith('\\'))
          steps[steps.length - 1].command += `\n${line}`;
        else steps.push({ command: line, expect: [] });
      }
      expect(steps.length).toBeGreaterThanOrEqual(5);
      const { rows: before } = await pool.query('SELECT 1 FROM accounts');
      expect(before).toHaveLength(0);

      const port = new URL(api.baseUrl).port;
      const script = steps
        .map(
          (s, k) =>
            `echo "@@step ${k}"\n${s.command.replaceAll('localhost:8080', `localhost:${port}`)}\necho "@@rc $?"`,
        )
        .join('\n');
      // In a folder of its own (the quick start writes quick-start.ndjson where it runs: never into the clone,
      // where a user's file of that name would be overwritten), with `npx twindex` resolving to this tree's bin.
      const inClone = existsSync(join(ROOT, 'quick-start.ndjson'));
      const cwd = join(dir, 'quick-start');
      mkdirSync(join(cwd, 'node_modules/.bin'), { recursive: true });
      symlinkSync(BIN, join(cwd, 'node_modules/.bin/twindex'));
      const res = await run(
        'bash',
        ['-c', script],
        { ...env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
        cwd,
      );
      expect(existsSync(join(cwd, 'quick-start.ndjson'))).toBe(true);
      expect(existsSync(join(ROOT, 'quick-start.ndjson'))).toBe(inClone);
      const outputs = res.stdout.split(/^@@step \d+\n/m).slice(1);
      expect(outputs).toHaveLength(steps.length);
      const { rows: twins } = await pool.query<{ uuid: string }>('SELECT uuid FROM twins');
      expect(twins).toHaveLength(1);
      steps.forEach((step, k) => {
        const out = outputs[k];
        const rc = Number(/@@rc (\d+)/.exec(out)?.[1]);
        // The import in the quick start has a bad line on purpose: "completed with skipped lines" is exit code 2.
        expect({ step: step.command, rc }).toEqual({
          step: step.command,
          rc: step.command.includes('twindex import') ? 2 : 0,
        });
        for (const answer of step.expect) {
          const pattern = answer
            .split(/(…|<T>)/)
            .map((part) =>
              part === '…'
                ? '.*'
                : part === '<T>'
                  ? twins[0].uuid
                  : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
            )
            .join('');
          expect({ step: step.command, out }).toEqual({
            step: step.command,
            out: expect.stringMatching(new RegExp(pattern)),
          });
        }
      });
      const { rows: accounts } = await pool.query<{ name: string }>('SELECT name FROM accounts');
      expect(accounts).toEqual([{ name: 'acme' }]);
    }, 180_000);
  });

  describe('twindex', () => {
    let secret: string;
    let account: string;
    let twin: string;

    beforeAll(async () => {
      const created = await run(process.execPath, [BIN, 'account', 'create', 'cli-co'], env);
      expect(created).toMatchObject({ code: 0 });
      secret = /^secret\s+(twx_\S+)$/m.exec(created.stdout)![1];
      account = /^account cli-co (\S+)$/m.exec(created.stdout)![1];
      twin = (await aTwin(api, { secret } as never)).uuid;
    }, 120_000);

    it('account create: the printed secret works, once shown, and --uuid is honoured', async () => {
      const whoami = await api.get('/whoami', { secret });
      expectStatus(whoami, 200);
      expect(whoami.text).toContain(account);
      const uuid = '6f1c6a52-8d3e-4f6b-9f3a-2a6a3c1d0b7e';
      const mirrored = await run(process.execPath, [BIN, 'account', 'create', 'mirror', '--uuid', uuid], env);
      expect(mirrored.code).toBe(0);
      expect(mirrored.stdout).toContain(`account mirror ${uuid}`);
      expect(mirrored.stdout.match(/twx_/g)).toHaveLength(1);
      const again = await run(process.execPath, [BIN, 'account', 'create', 'mirror2', '--uuid', uuid], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already_exists/);
    }, 120_000);

    it('import of an NDJSON file with bad lines: counts and bad lines shown, exit code 2; all good: 0', async () => {
      const names = [aName(), aName()];
      const file = join(dir, 'some.ndjson');
      writeFileSync(
        file,
        [
          JSON.stringify({ twin, identity: names[0] }),
          '{"twin": broken',
          JSON.stringify({ twin, identity: names[1], visibility: '((' }),
        ].join('\n') + '\n',
      );
      const res = await run(process.execPath, [BIN, 'import', file, '--secret', secret], env);
      expect(res.code).toBe(2);
      expect(res.stdout).toMatch(/completed: 3 received, 1 imported, 2 skipped\n/);
      expect(res.stdout).toMatch(/line 2: invalid_json/);
      expect(res.stdout).toMatch(/line 3: invalid_rule/);
      expect(res.stdout + res.stderr).not.toContain(secret);

      writeFileSync(file, JSON.stringify({ twin, identity: aName() }) + '\n');
      const good = await run(process.execPath, [BIN, 'import', file], { ...env, TWINDEX_SECRET: secret });
      expect(good.code).toBe(0);
      expect(good.stdout).toMatch(/completed: 1 received, 1 imported, 0 skipped\n/);
      // The same file again writes nothing, and says so.
      const again = await run(process.execPath, [BIN, 'import', file], { ...env, TWINDEX_SECRET: secret });
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(
        /completed: 1 received, 0 imported, 0 skipped, 1 unchanged \(already stored as given\)/,
      );
    }, 120_000);

    it('import of a CSV whose rules contain commas and quotes, columns in any order, optional ones left out', async () => {
      const names = [aName(), aName(), aName()];
      const rule = 'USER.role in ["ops", "x,y"] or true';
      const file = join(dir, 'rules.csv');
      writeFileSync(
        file,
        [
          'identity,visibility,twin',
          `${names[0]},"${rule.replaceAll('"', '""')}",${twin}`,
          `${names[1]},,${twin}`,
          `BAD NAME,,${twin}`,
          `${names[2]},"not, a ""rule"" (",${twin}`,
        ].join('\r\n'),
      );
      const res = await run(process.execPath, [BIN, 'import', file, '--secret', secret], env);
      expect(res.stdout).toMatch(/completed: 4 received, 2 imported, 2 skipped\n/);
      expect(res.stdout).toMatch(/line 4: invalid_identity/);
      expect(res.stdout).toMatch(/line 5: invalid_rule/);
      expect(res.code).toBe(2);
      const { rows } = await pool.query<{ name: string; visibility: string | null }>(
        'SELECT name, visibility FROM identities WHERE name = ANY($1) ORDER BY name',
        [names],
      );
      expect(rows).toEqual(
        [
          { name: names[0], visibility: rule },
          { name: names[1], visibility: null },
        ].sort((a, b) => (a.name < b.name ? -1 : 1)),
      );
    }, 120_000);

    it('a CSV header error is refused before the import is accepted: exit code 1, nothing stored', async () => {
      const file = join(dir, 'bad-header.csv');
      writeFileSync(file, `twin,identity,colour\n${twin},${aName()},red\n`);
      const res = await run(process.execPath, [BIN, 'import', file, '--secret', secret], env);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/400 invalid_csv_header: Unknown CSV column 'colour'/);
      const { rows } = await pool.query(
        `SELECT 1 FROM imports i JOIN accounts a ON a.uuid = i.account WHERE a.name = 'cli-co' AND i.format = 'csv' AND i.received = 1`,
      );
      expect(rows).toHaveLength(0);
    }, 120_000);

    it('fails with exit code 1 on a wrong secret or without one, and answers --help on each command', async () => {
      const file = join(dir, 'one.ndjson');
      writeFileSync(file, JSON.stringify({ twin, identity: aName() }) + '\n');
      const wrong = await run(process.execPath, [BIN, 'import', file, '--secret', 'twx_nope'], env);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/401/);
      expect(wrong.stderr).not.toContain('twx_nope');
      const none = await run(process.execPath, [BIN, 'import', file], env);
      expect(none.code).toBe(1);
      for (const args of [
        ['--help'],
        ['account', 'create', '--help'],
        ['import', '--help'],
        ['migrate', '--help'],
        ['operator-key', '--help'],
      ]) {
        const help = await run(process.execPath, [BIN, ...args], env);
        expect({ args, code: help.code }).toEqual({ args, code: 0 });
        expect(help.stdout).toMatch(/^Usage: twindex/);
      }
      const key = await run(process.execPath, [BIN, 'operator-key'], env);
      expect(key.stdout).toMatch(/TWINDEX_OPERATOR_KEY=[0-9a-f]{64}/);
    }, 120_000);
  });
});
