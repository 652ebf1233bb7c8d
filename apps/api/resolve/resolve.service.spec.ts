import type { Caller, IdentityRow } from '../../../libs/domain/model.js';
import { storedRule } from '../../../libs/domain/rules/stored-rule.js';
import { compileRuleCached } from '../../../libs/domain/rules/index.js';
import {
  IdentityIndex,
  type IndexedIdentity,
  type IndexedTwin,
  TwinFactsIndex,
} from '../../../libs/store/identity-index.js';
import { ResolveService } from './resolve.service.js';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const T1 = '11111111-0000-4000-8000-000000000001';
const T2 = '22222222-0000-4000-8000-000000000002';
const NOW = 2_000_000_000;

class FakeIdentityIndex extends IdentityIndex {
  calls: string[][] = [];
  private readonly rows: IdentityRow[];
  constructor(stored: IndexedIdentity[]) {
    super();
    // As the PostgreSQL index does: rules compiled once, when loaded.
    this.rows = stored.map((r) => ({ ...r, visibility: storedRule(r.visibility) }));
  }
  async lookup(name: string): Promise<IdentityRow[]> {
    this.calls.push([name]);
    return this.rows.filter((r) => r.name === name);
  }
  async lookupMany(names: readonly string[]): Promise<Map<string, IdentityRow[]>> {
    this.calls.push([...names]);
    return new Map(names.map((n) => [n, this.rows.filter((r) => r.name === n)]));
  }
}

class FakeTwinFacts extends TwinFactsIndex {
  calls: string[][] = [];
  constructor(private readonly twins: IndexedTwin[]) {
    super();
  }
  async twinFacts(uuids: readonly string[]): Promise<Map<string, IndexedTwin>> {
    this.calls.push([...uuids].sort());
    return new Map(this.twins.filter((t) => uuids.includes(t.uuid)).map((t) => [t.uuid, t]));
  }
}

function twin(uuid: string, owner: string, kind: string, createdTs: number): IndexedTwin {
  return {
    uuid,
    owner,
    status: 'alive',
    description: { kind },
    createdTs,
    creator: owner,
    updatedTs: createdTs,
    terminatedTs: null,
    terminator: null,
  };
}

function row(overrides: Partial<IndexedIdentity>): IndexedIdentity {
  return {
    name: 'RFID#x',
    twin: T1,
    owner: A,
    visibility: null,
    validityTs: null,
    twinCreatedTs: 10,
    grantee: null,
    ...overrides,
  };
}

function caller(overrides: Partial<Caller> = {}): Caller {
  return {
    account: A,
    user: 'dddddddd-0000-4000-8000-00000000000a',
    role: 'eeeeeeee-0000-4000-8000-00000000000a',
    userDescription: {},
    dict: {},
    twinRule: null,
    identityRule: null,
    ...overrides,
  };
}

const TWINS = [twin(T1, A, 'pallet', 10), twin(T2, B, 'crate', 20)];
const SYSTEM = { kind: 'system' } as const;

function setup(rows: IndexedIdentity[]) {
  const identities = new FakeIdentityIndex(rows);
  const facts = new FakeTwinFacts(TWINS);
  return { identities, facts, service: new ResolveService(identities, facts) };
}

describe('ResolveService', () => {
  it('answers UUIDs without fetching twin facts when no rule reads them', async () => {
    const { service, facts } = setup([
      row({}),
      row({ twin: T2, owner: B, visibility: 'account == "' + A + '"', twinCreatedTs: 20 }),
    ]);
    const answer = await service.resolve(caller(), 'RFID#x', SYSTEM, false, NOW);
    expect(answer).toEqual({ details: false, twins: [T1, T2] });
    expect(facts.calls).toEqual([]);
  });

  it('fetches only the twins whose foreign rows carry a rule reading TWIN', async () => {
    const { service, facts } = setup([
      row({}),
      row({ twin: T2, owner: B, visibility: 'TWIN.kind == "crate"', twinCreatedTs: 20 }),
    ]);
    const answer = await service.resolve(caller(), 'RFID#x', SYSTEM, false, NOW);
    expect(answer).toEqual({ details: false, twins: [T1, T2] });
    expect(facts.calls).toEqual([[T2]]);
  });

  it('never fetches for rows that cannot be kept: out of context, expired, or foreign and private', async () => {
    const { service, facts } = setup([
      row({ twin: T2, owner: B, visibility: null }),
      row({ twin: T1, owner: B, visibility: 'TWIN.kind == "pallet"', validityTs: NOW - 1 }),
    ]);
    expect(await service.resolve(caller(), 'RFID#x', SYSTEM, true, NOW)).toEqual({
      details: true,
      twins: [],
    });
    expect(await service.resolve(caller(), 'RFID#x', { kind: 'personal' }, false, NOW)).toEqual({
      details: false,
      twins: [],
    });
    expect(facts.calls).toEqual([]);
  });

  it('fetches every candidate twin when the role identity_rule reads twin facts', async () => {
    const { service, facts } = setup([
      row({}),
      row({ twin: T2, owner: B, visibility: 'true', twinCreatedTs: 20 }),
    ]);
    const answer = await service.resolve(
      caller({ identityRule: compileRuleCached('twin_owner == account') }),
      'RFID#x',
      SYSTEM,
      false,
      NOW,
    );
    expect(answer).toEqual({ details: false, twins: [T1] });
    expect(facts.calls).toEqual([[T1, T2]]);
  });

  it('answers details with the visible twins only, in creation order', async () => {
    const { service } = setup([row({ twin: T2, owner: B, visibility: 'true', twinCreatedTs: 20 }), row({})]);
    const own = await service.resolve(caller(), 'RFID#x', SYSTEM, true, NOW);
    expect(own).toEqual({ details: true, twins: [TWINS[0]] });
    const seeing = await service.resolve(
      caller({ twinRule: compileRuleCached('true') }),
      'RFID#x',
      SYSTEM,
      true,
      NOW,
    );
    expect(seeing).toEqual({ details: true, twins: TWINS });
  });

  it('resolves a batch with one index lookup and one twin-facts fetch', async () => {
    const { service, identities, facts } = setup([
      row({ name: 'A#1' }),
      row({ name: 'A#2', twin: T2, owner: B, visibility: 'true', twinCreatedTs: 20 }),
    ]);
    const answers = await service.resolveMany(caller(), ['A#1', 'A#2', 'A#3'], SYSTEM, true, NOW);
    expect(Object.fromEntries(answers)).toEqual({
      'A#1': { details: true, twins: [TWINS[0]] },
      'A#2': { details: true, twins: [] },
      'A#3': { details: true, twins: [] },
    });
    expect(identities.calls).toEqual([['A#1', 'A#2', 'A#3']]);
    expect(facts.calls).toEqual([[T1, T2]]);
  });

  it('treats a stored rule that no longer compiles as true for nobody', async () => {
    const { service } = setup([row({ owner: B, visibility: 'this is ( not a rule' })]);
    expect(await service.resolve(caller(), 'RFID#x', SYSTEM, false, NOW)).toEqual({
      details: false,
      twins: [],
    });
  });
});
