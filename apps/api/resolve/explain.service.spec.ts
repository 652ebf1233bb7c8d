import type { AuthService } from '../../../libs/access/auth.service.js';
import type { Principal } from '../../../libs/access/principal.js';
import type { UserAccess, UserAccessRepository } from '../../../libs/access/user-access.repository.js';
import { loadConfig } from '../../../libs/config/index.js';
import { TwindexError } from '../../../libs/domain/errors.js';
import type { IdentityRow } from '../../../libs/domain/model.js';
import { IdentityIndex, type IndexedTwin, TwinFactsIndex } from '../../../libs/store/identity-index.js';
import { ExplainService } from './explain.service.js';
import { ResolveService } from './resolve.service.js';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const USER = 'dddddddd-0000-4000-8000-00000000000a';
const ROLE = 'eeeeeeee-0000-4000-8000-00000000000a';
const T1 = '11111111-0000-4000-8000-000000000001';
const NOW = 2_000_000_000;
const down = () => new TwindexError('unavailable', 'database_unavailable', 'PostgreSQL is unreachable');

class Index extends IdentityIndex {
  constructor(private readonly fail: boolean) {
    super();
  }
  async lookup(name: string): Promise<IdentityRow[]> {
    if (this.fail) throw down();
    return [
      { name, twin: T1, owner: A, visibility: null, validityTs: null, twinCreatedTs: 1, grantee: null },
    ];
  }
  async lookupMany(): Promise<Map<string, IdentityRow[]>> {
    throw new Error('not used');
  }
}

class Facts extends TwinFactsIndex {
  async twinFacts(): Promise<Map<string, IndexedTwin>> {
    throw down();
  }
}

const principal: Principal = {
  account: A,
  user: USER,
  role: ROLE,
  userDescription: {},
  dict: {},
  twinRule: null,
  identityRule: null,
  accountName: 'acme',
  userName: 'admin',
  roleName: 'Admin',
  statement: { effect: 'deny', actions: [] },
  allowed: new Set(['resolve_twin_identity', 'explain_resolution']),
  fingerprint: 'twx_abcdEFGH',
  secretValidityTs: null,
};

const access: UserAccess = {
  account: A,
  user: USER,
  userName: 'admin',
  status: 'active',
  userDescription: {},
  role: ROLE,
  roleName: 'Admin',
  builtIn: true,
  statement: { effect: 'deny', actions: [] },
  twinRule: null,
  identityRule: null,
  permissions: [],
};

function service(options: {
  index?: IdentityIndex;
  facts?: TwinFactsIndex;
  access?: () => Promise<UserAccess>;
}) {
  const index = options.index ?? new Index(false);
  const facts = options.facts ?? new Facts();
  const repo = { find: options.access ?? (async () => access) } as unknown as UserAccessRepository;
  const auth = { authorize: () => undefined } as unknown as AuthService;
  return new ExplainService(loadConfig({}), auth, repo, index, facts, new ResolveService(index, facts));
}

const request = { name: 'RFID#x', context: { kind: 'personal' as const }, details: false };

describe('ExplainService', () => {
  it('explains an own row without reading twin facts it does not need', async () => {
    const explanation = await service({}).explain(principal, request, NOW);
    expect(explanation.answer).toEqual({ twins: [T1] });
    expect(explanation.action).toEqual({
      name: 'resolve_twin_identity',
      decision: 'allow',
      by: 'built-in role Admin',
    });
  });

  it('never turns a dependency failure into a deny or an empty answer: the failure is the answer (503)', async () => {
    await expect(service({ index: new Index(true) }).explain(principal, request, NOW)).rejects.toMatchObject({
      kind: 'unavailable',
    });
    await expect(
      service({ access: () => Promise.reject(down()) }).explain(principal, request, NOW),
    ).rejects.toMatchObject({ kind: 'unavailable' });
    // Details need the twin's facts: their failure fails the explanation too.
    await expect(service({}).explain(principal, { ...request, details: true }, NOW)).rejects.toMatchObject({
      kind: 'unavailable',
    });
  });
});
