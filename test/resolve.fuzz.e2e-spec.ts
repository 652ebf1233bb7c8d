/**
 * Bad input never yields 500 (issue #3): generated path segments, contexts, details, filters, identity bodies,
 * rule texts, descriptions and paging parameters thrown at the real API. Every answer must be below 500, and every
 * 4xx must carry the error shape of docs/http.md.
 */
import fc from 'fast-check';
import { aName, aTwin, Fixtures, type Party, trustedTwinHeader } from './support/factories.js';
import { type HttpResponse, TestApi } from './support/test-app.js';

/**
 * Path segments stay within Fastify's default route-parameter length, and percent escapes are well formed: over-long
 * segments and broken escapes are answered by the router itself, and have their own explicit tests below.
 */
const MAX_SEGMENT = 100;
const wellFormed = (segment: string) => {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
};

function expectSane(res: HttpResponse, what: unknown): void {
  if (res.status >= 500 || res.status < 200) {
    throw new Error(`${res.status} for ${JSON.stringify(what)}: ${res.text}`);
  }
  if (res.status >= 400) {
    const body = res.body as Record<string, unknown> | undefined;
    const keys = Object.keys(body ?? {}).sort();
    const shaped =
      keys.join() === 'description,subcode,trace' &&
      typeof body?.subcode === 'string' &&
      typeof body?.description === 'string' &&
      body?.trace === res.headers.get('x-request-id');
    if (!shaped)
      throw new Error(`error shape broken (${res.status}) for ${JSON.stringify(what)}: ${res.text}`);
  } else if (typeof res.body !== 'object' || res.body === null) {
    throw new Error(`non-JSON ${res.status} for ${JSON.stringify(what)}: ${res.text}`);
  }
}

// ---- generators ------------------------------------------------------------------------------------------------

const validName = fc
  .tuple(fc.stringMatching(/^[A-Za-z_][0-9A-Za-z_]{0,7}$/), fc.stringMatching(/^[0-9A-Za-z_=+-]{1,40}$/))
  .map(([scheme, value]) => `${scheme}#${value}`);

/** Names near the grammar: valid ones, and valid ones with one character inserted, removed or replaced. */
const nearName = fc.oneof(
  validName,
  fc.tuple(validName, fc.nat(), fc.string({ unit: 'binary-ascii', maxLength: 2 })).map(([n, i, s]) => {
    const at = i % (n.length + 1);
    return n.slice(0, at) + s + n.slice(at + 1);
  }),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', '#', 'A#', '#a', 'A##b', 'toString', '__proto__', 'constructor#x', 'A#b\n', ' A#b'),
);

/** A path segment as sent on the wire: encoded names, raw characters, odd but well-formed escapes. */
const pathSegment = fc
  .oneof(
    nearName.map((n) => encodeURIComponent(n)),
    validName.map((n) => n.replace('#', '%23')),
    validName.map((n) => n.replace('#', '%2523')),
    fc.stringMatching(/^[A-Za-z0-9%#._~+=!$&'()*,;:@-]{1,40}$/),
    fc.constantFrom('%00', 'a%23%00', '%F0%9F%98%80', '%EF%BF%BF', '%2F', '%3F', '%23%23', '%2e%2e', '%20'),
    fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => encodeURIComponent(s)),
  )
  .filter((s) => s.length > 0 && s.length <= MAX_SEGMENT && s !== '.' && s !== '..' && wellFormed(s));

const uuidish = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constant('not-a-uuid'),
);

const contextValue = fc.oneof(
  fc.constantFrom('personal', 'system', 'PERSONAL', 'System', '', ',', 'personal,system', ' system'),
  uuidish,
  fc.array(uuidish, { maxLength: 5 }).map((xs) => xs.join(',')),
  fc.string({ maxLength: 40 }),
);
const contextParam = fc.option(
  fc.oneof(
    contextValue,
    fc.array(contextValue, { minLength: 1, maxLength: 4 }),
    fc.array(fc.uuid(), { minLength: 95, maxLength: 110 }).map((xs) => xs.join(',')),
  ),
  { nil: undefined },
);

const booleanish = fc.oneof(
  fc.constantFrom('true', 'false', 'TRUE', 'False', 'tRuE', '1', '0', 'yes', '', ' true'),
  fc.string({ maxLength: 10 }),
);
const booleanParam = fc.option(fc.oneof(booleanish, fc.array(booleanish, { minLength: 1, maxLength: 3 })), {
  nil: undefined,
});

/** X-TrustedTwin values an HTTP client can send (visible ASCII): base64 objects, JSON text, junk. */
const headerValue = fc.option(
  fc
    .oneof(
      fc
        .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
        .map((d) => trustedTwinHeader(d)['x-trustedtwin']),
      fc.json({ maxDepth: 2 }),
      fc.string({ unit: 'binary-ascii', maxLength: 40 }),
      fc.base64String({ maxLength: 40 }),
    )
    .map((v) => v.replace(/[^\x20-\x7e]/g, '').trim())
    .filter((v) => v.length > 0),
  { nil: undefined },
);

/** Rule texts: token soup from the language, nesting, regexes, and plain junk. */
const ruleToken = fc.constantFrom(
  'account',
  'user',
  'role',
  'now',
  'twin',
  'identity',
  'twin_owner',
  'twin_status',
  'TWIN',
  'USER',
  'DICT',
  'foo',
  '.',
  '&.',
  '.kind',
  '&.site',
  '[',
  ']',
  '[0]',
  '(',
  ')',
  '{',
  '}',
  ':',
  ',',
  '"a"',
  "'b'",
  '"WAW-[0-9]+"',
  '"("',
  '"(a+)+$"',
  '1',
  '-2',
  '1.5',
  '1e3',
  '1e400',
  'true',
  'false',
  'null',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '=~',
  '!~',
  '=~~',
  '!~~',
  'in',
  'not',
  'and',
  'or',
  '?',
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
  '"\\u0000"',
  '"\\x"',
  '#',
);
const ruleText = fc.oneof(
  fc.array(ruleToken, { minLength: 1, maxLength: 16 }).map((ts) => ts.join(' ')),
  fc.array(ruleToken, { minLength: 1, maxLength: 16 }).map((ts) => ts.join('')),
  fc.nat({ max: 60 }).map((n) => `${'('.repeat(n)}1${')'.repeat(n)}`),
  fc.nat({ max: 40 }).map((n) => `${'-'.repeat(n)}1 == 1`),
  fc.nat({ max: 3000 }).map((n) => `"${'a'.repeat(n)}" == "a"`),
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    'true',
    'DICT.site =~ "WAW-[0-9]+"',
    'TWIN&.a&.b == null',
    'USER.x in [1, 2]',
    '10 ** 400 > 1',
  ),
);

const visibilityValue = fc.oneof(
  ruleText,
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.jsonValue({ maxDepth: 1 }),
);
const validityValue = fc.oneof(
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, 0, Date.now() / 1000 + 1),
  fc.string({ maxLength: 10 }),
);
const identityAttributes = fc.oneof(
  fc.record({ visibility: visibilityValue, validity_ts: validityValue }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const identitiesBody = fc.oneof(
  fc
    .dictionary(nearName, identityAttributes, { minKeys: 0, maxKeys: 4 })
    .map((identities) => ({ identities })),
  fc.record({ identities: fc.jsonValue({ maxDepth: 2 }) }),
  fc.jsonValue({ maxDepth: 3 }),
);

const description = fc.oneof(
  fc.dictionary(fc.stringMatching(/^[a-z_][0-9a-z_]{0,10}$/), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 20 }).map((s) => ({ k: `${s}\u0000` })),
);

const numberish = fc.option(
  fc.oneof(
    fc.integer({ min: -5, max: 2000 }).map(String),
    fc.double({ noNaN: true }).map(String),
    fc.string({ maxLength: 12 }),
    fc.base64String({ maxLength: 30 }),
  ),
  { nil: undefined },
);

// ---- the suite ------------------------------------------------------------------------------------------------

describe('fuzz: bad input never yields 500', () => {
  let api: TestApi;
  let fx: Fixtures;
  let alice: Party;
  let bob: Party;
  let twin: string;
  let knownName: string;

  beforeAll(async () => {
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    alice = await fx.anAccount('alice');
    bob = await fx.aUser(await fx.anAccount('bob'), {
      twinRule: 'TWIN&.kind == "pallet" or twin_status == "alive"',
    });
    twin = (await aTwin(api, alice, { kind: 'pallet' })).uuid;
    knownName = aName();
    const res = await api.post(`/twins/${twin}/identities`, {
      secret: alice.secret,
      body: { identities: { [knownName]: { visibility: 'DICT&.site =~ "WAW-[0-9]+"' } } },
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await fx.close();
    await api.stop();
  });

  const runs = (numRuns: number) => ({ numRuns, endOnFailure: true });

  it('GET /resolve/{identity} with any segment, context, details and header', async () => {
    await fc.assert(
      fc.asyncProperty(
        pathSegment,
        contextParam,
        booleanParam,
        headerValue,
        fc.boolean(),
        async (seg, context, details, header, asBob) => {
          const headers: Record<string, string> = header === undefined ? {} : { 'x-trustedtwin': header };
          const res = await api.get(`/resolve/${seg}`, {
            secret: (asBob ? bob : alice).secret,
            query: { context, details },
            headers,
          });
          expectSane(res, { seg, context, details, header });
        },
      ),
      runs(1200),
    );
  });

  it.each([
    ['a lone %', '%'],
    ['a truncated escape', '%2'],
    ['a non-hex escape', '%zz'],
    ['a truncated UTF-8 sequence', '%E0%A4%A'],
    ['an overlong UTF-8 encoding', '%C0%AF'],
    ['an invalid UTF-8 byte', '%FF'],
    ['a 200-character name', `A%23${'x'.repeat(200)}`],
    ['a 2,000-character segment', 'x'.repeat(2000)],
  ])(
    'answers a path segment with %s, which the router itself refuses, with the error shape',
    async (_label, segment) => {
      for (const path of [
        `/resolve/${segment}`,
        `/twins/${segment}`,
        `/twins/${twin}/identities/${segment}`,
      ]) {
        expectSane(await api.get(path, { secret: alice.secret }), path);
      }
    },
  );

  it('POST /resolve with any body', async () => {
    const body = fc.oneof(
      fc.record(
        {
          identities: fc.oneof(
            fc.array(fc.oneof(nearName, fc.constant(knownName)), { maxLength: 20 }),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          context: fc.oneof(
            contextValue,
            fc.array(contextValue, { maxLength: 3 }),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          details: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(body, headerValue, async (b, header) => {
        const headers: Record<string, string> = header === undefined ? {} : { 'x-trustedtwin': header };
        expectSane(await api.post('/resolve', { secret: bob.secret, body: b, headers }), { b, header });
      }),
      runs(400),
    );
  });

  it('POST /twins/{twin}/identities with any body, then resolving what was created', async () => {
    await fc.assert(
      fc.asyncProperty(identitiesBody, headerValue, async (body, header) => {
        const res = await api.post(`/twins/${twin}/identities`, { secret: alice.secret, body });
        expectSane(res, body);
        if (res.status !== 201) return;
        const headers: Record<string, string> = header === undefined ? {} : { 'x-trustedtwin': header };
        for (const name of Object.keys(res.body.identities as object)) {
          const resolved = await api.get(`/resolve/${encodeURIComponent(name)}`, {
            secret: bob.secret,
            query: { context: 'system', details: 'true' },
            headers,
          });
          expectSane(resolved, { name, header });
        }
      }),
      runs(700),
    );
  });

  it('GET /twins/{twin}/identities with any filters', async () => {
    const filters = fc.record(
      {
        show_personal: booleanParam,
        show_foreign: fc.option(fc.oneof(booleanish, uuidish, fc.array(uuidish, { maxLength: 2 })), {
          nil: undefined,
        }),
        show_valid: booleanParam,
        show_expired: booleanParam,
        show_public: booleanParam,
        show_private: booleanParam,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(filters, fc.boolean(), async (query, asBob) => {
        const res = await api.get(`/twins/${twin}/identities`, {
          secret: (asBob ? bob : alice).secret,
          query: query,
        });
        expectSane(res, query);
      }),
      runs(500),
    );
  });

  it('GET, PATCH and DELETE /twins/{twin}/identities/{identity} with any segments and bodies', async () => {
    const twinSegment = fc.oneof(fc.constant(twin), fc.uuid(), pathSegment);
    const method = fc.constantFrom('GET', 'PATCH', 'DELETE');
    const body = fc.oneof(
      fc.record({ visibility: visibilityValue, validity_ts: validityValue }, { requiredKeys: [] }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    await fc.assert(
      fc.asyncProperty(
        twinSegment,
        fc.oneof(pathSegment, fc.constant(encodeURIComponent(knownName))),
        method,
        body,
        async (t, seg, m, b) => {
          const res = await api.request(m, `/twins/${t}/identities/${seg}`, {
            secret: alice.secret,
            body: m === 'PATCH' ? b : undefined,
          });
          expectSane(res, { t, seg, m, b });
        },
      ),
      runs(500),
    );
  });

  it('twins: create, update, scan and read with any input', async () => {
    const action = fc.oneof(
      description.map((d) => ({ kind: 'create' as const, d })),
      description.map((d) => ({ kind: 'update' as const, d })),
      fc
        .record(
          {
            count: numberish,
            limit: numberish,
            cursor: numberish,
            details: booleanParam,
            updated_since: numberish,
          },
          { requiredKeys: [] },
        )
        .map((q) => ({ kind: 'scan' as const, q })),
      pathSegment.map((seg) => ({ kind: 'get' as const, seg })),
    );
    await fc.assert(
      fc.asyncProperty(action, async (a) => {
        let res: HttpResponse;
        if (a.kind === 'create')
          res = await api.post('/twins', { secret: alice.secret, body: { description: a.d } });
        else if (a.kind === 'update')
          res = await api.patch(`/twins/${twin}`, { secret: alice.secret, body: { description: a.d } });
        else if (a.kind === 'scan') res = await api.get('/twins', { secret: bob.secret, query: a.q });
        else res = await api.get(`/twins/${a.seg}`, { secret: alice.secret });
        expectSane(res, a);
      }),
      runs(500),
    );
  });

  it('GET /log with any paging parameters', async () => {
    await fc.assert(
      fc.asyncProperty(numberish, numberish, async (limit, cursor) => {
        expectSane(await api.get('/log', { secret: alice.secret, query: { limit, cursor } }), {
          limit,
          cursor,
        });
      }),
      runs(200),
    );
  });
});
