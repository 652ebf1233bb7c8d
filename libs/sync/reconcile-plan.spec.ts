import { planIdentities, planTwin, rejectionLines } from './reconcile-plan.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const T = '33333333-3333-4333-8333-333333333333';
const attrs = (over: Record<string, unknown> = {}) => ({
  validity_ts: null,
  created_ts: 1,
  updated_ts: 2,
  ...over,
});

describe('planIdentities', () => {
  it("keeps the source account's identities as its own, with the rule where upstream gives one", () => {
    const plan = planIdentities(A, false, {
      accounts: { [A]: { 'RFID#a': attrs({ visibility: 'true' }), 'RFID#b': attrs() } },
    });
    expect(plan.personal).toEqual([
      { name: 'RFID#a', visibility: 'true', validityTs: null, createdTs: 1, updatedTs: 2 },
      { name: 'RFID#b', visibility: undefined, validityTs: null, createdTs: 1, updatedTs: 2 },
    ]);
    expect(plan.grants).toEqual([]);
  });

  it("never takes another account's identity as that account's: dropped, or a grant with include_foreign", () => {
    const upstream = { accounts: { [B]: { 'GTIN#1': attrs({ visibility: 'true' }) } } };
    expect(planIdentities(A, false, upstream)).toEqual({ personal: [], grants: [], rejected: [] });
    expect(planIdentities(A, true, upstream).grants).toEqual([
      { name: 'GTIN#1', owner: B, validityTs: null, createdTs: 1, updatedTs: 2 },
    ]);
    expect(planIdentities(A, true, upstream).personal).toEqual([]);
  });

  it('reads account ids case-insensitively', () => {
    const plan = planIdentities(A, false, { accounts: { [A.toUpperCase()]: { 'RFID#a': attrs() } } });
    expect(plan.personal.map((p) => p.name)).toEqual(['RFID#a']);
  });

  it('rejects invalid names, non-UUID owners and rules holding NUL, and reports them', () => {
    const plan = planIdentities(A, true, {
      accounts: {
        [A]: { 'not a name': attrs(), 'RFID#nul': attrs({ visibility: 'a\u0000' }), 'RFID#ok': attrs() },
        'not-a-uuid': { 'RFID#x': attrs() },
      },
    });
    expect(plan.personal.map((p) => p.name)).toEqual(['RFID#ok']);
    expect(plan.rejected.map((r) => r.name).sort()).toEqual(['RFID#nul', 'RFID#x', 'not a name']);
  });

  it('refuses the rules the API refuses (too long, unparsable, lone surrogate): the identity is skipped', () => {
    const plan = planIdentities(A, false, {
      accounts: {
        [A]: {
          'RFID#long': attrs({ visibility: 'x'.repeat(70_000) }),
          'RFID#broken': attrs({ visibility: '(1 ==' }),
          'RFID#lone': attrs({ visibility: "'\ud800' == ''" }),
          'RFID#ok': attrs({ visibility: 'true' }),
        },
      },
    });
    expect(plan.personal.map((p) => p.name)).toEqual(['RFID#ok']);
    const reasons = Object.fromEntries(plan.rejected.map((r) => [r.name, r.reason]));
    expect(reasons['RFID#long']).toContain('rule longer than 2048 characters');
    expect(reasons['RFID#broken']).toContain('invalid visibility rule');
    expect(reasons['RFID#lone']).toContain('lone UTF-16 surrogate');
  });

  it('reports rejected entries in escapes, a few one by one and the rest counted', () => {
    const rejected = Array.from({ length: 7 }, (_, i) => ({ name: `n\u0000${i}`, owner: A, reason: 'r' }));
    rejected[0] = { name: 'bad\u0000\ud800', owner: 'x\ud800', reason: 'r' };
    const lines = rejectionLines(rejected);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('identity "bad\\u0000\\ud800" of "x\\ud800" skipped: r');
    expect(lines[5]).toBe('2 more identities of the twin skipped');
    expect(lines.join('')).not.toContain('\u0000');
    expect(lines.join('')).not.toMatch(/[\ud800-\udfff]/);
  });
});

describe('planTwin', () => {
  const twin = {
    uuid: T,
    owner: A,
    status: 'alive' as const,
    description: { k: 1 },
    updated_ts: 5,
    creation_certificate: { uuid: T, creator: A, created_ts: 3 },
  };

  it('maps the twin object, terminated or not', () => {
    expect(planTwin(T, twin)).toEqual({
      uuid: T,
      owner: A,
      status: 'alive',
      description: { k: 1 },
      creator: A,
      createdTs: 3,
      updatedTs: 5,
      terminatedTs: null,
      terminator: null,
    });
    expect(
      planTwin(T, {
        ...twin,
        status: 'terminated',
        termination_certificate: { issuer: B, terminated_ts: 6 },
      }),
    ).toMatchObject({ status: 'terminated', terminatedTs: 6, terminator: B });
  });

  it('refuses an answer about another twin or with a bad owner', () => {
    expect(planTwin(T, { ...twin, uuid: B })).toHaveProperty('invalid');
    expect(planTwin(T, { ...twin, owner: 'x' })).toHaveProperty('invalid');
  });
});
