import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { aName, anIdentity, attach, aTwin, Fixtures, type Party } from './support/factories.js';
import { TestApi } from './support/test-app.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/twindex.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, whatever its exit code. */
function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        done({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * `twindex explain` run as a user runs it (`bin/twindex.js` on the compiled code) against a real API: the README's
 * worked example — a gate that does not see a tag because its role's identity_rule reads DICT.site and it sends no
 * X-TrustedTwin — read as a tree, with the exit code scripts test.
 */
describe('twindex explain', () => {
  let api: TestApi;
  let fx: Fixtures;
  let admin: Party;
  let gate: Party;
  let env: Record<string, string>;
  const name = aName();
  let twin: string;

  beforeAll(async () => {
    // The bin runs the compiled CLI: compile this tree first, as `npm start` would.
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
      },
    );
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    admin = await fx.anAccount('acme');
    gate = await fx.aUser(admin, {
      effect: 'allow',
      actions: ['resolve_twin_identity', 'explain_resolution'],
      identityRule: "DICT.site == 'WAW'",
    });
    twin = (await aTwin(api, admin)).uuid;
    await attach(api, admin, twin, { [name]: anIdentity() });
    env = { TWINDEX_URL: api.baseUrl, LOG_LEVEL: 'silent' };
    delete process.env.TWINDEX_SECRET;
  }, 300_000);

  afterAll(async () => {
    await fx?.close();
    await api?.stop();
  });

  it('shows the failing rule and its missing variable, and exits 1 when nothing resolves', async () => {
    const res = await run(['explain', name, '--secret', gate.secret], env);
    expect(res).toMatchObject({ code: 1, stderr: '' });
    expect(res.stdout).toContain(`${name}: resolves to no twin`);
    expect(res.stdout).toContain('✓ resolve_twin_identity: allow by role statement');
    expect(res.stdout).toMatch(/└─ ✗ twin \S+, owner \S+ \(own identity\): dropped/);
    expect(res.stdout).toContain('✓ visibility: own identity');
    expect(res.stdout).toContain(
      "└─ ✗ role.identity_rule: DICT.site == 'WAW' — evaluated to false — missing: DICT.site",
    );
    expect(res.stdout).not.toContain(gate.secret);
  });

  it('exits 0 once the identity resolves: with an assumed --dict, or as the gate user for its admin', async () => {
    const assumed = await run(['explain', name, '--dict', '{"site":"WAW"}'], {
      ...env,
      TWINDEX_SECRET: gate.secret,
    });
    expect(assumed.code).toBe(0);
    expect(assumed.stdout).toContain(`${name}: resolves to 1 twin\n  → ${twin}`);
    expect(assumed.stdout).toContain("✓ role.identity_rule: DICT.site == 'WAW' — evaluated to true");
    const asUser = await run(
      ['explain', name, '--as-user', gate.user, '--context', 'system', '--dict', '{"site":"WAW"}', '--json'],
      { ...env, TWINDEX_SECRET: admin.secret },
    );
    expect(asUser.code).toBe(0);
    expect(JSON.parse(asUser.stdout)).toMatchObject({
      answer: { twins: [twin] },
      caller: { user: gate.user, as_user: true },
      context: { given: 'system', accounts: null },
    });
  });

  it('says why a call fails, on stderr, with exit code 1', async () => {
    const bad = await run(['explain', 'RFID#'], { ...env, TWINDEX_SECRET: gate.secret });
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toMatch(/^twindex explain: HTTP 400 invalid_identity: /);
    const noSecret = await run(['explain', name], env);
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain('a secret is needed');
    const notJson = await run(['explain', name, '--dict', '[1]'], { ...env, TWINDEX_SECRET: gate.secret });
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('a JSON object');
  });
});
