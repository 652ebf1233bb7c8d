/**
 * The identity cache stays within its bounds (entries and bytes) however many distinct names are resolved, evicts to
 * make room, and every answer stays correct (issue #4: "fills the cache past its bounds").
 */
import fc from 'fast-check';
import {
  aName,
  anIdentity,
  aTwin,
  expectStatus,
  Fixtures,
  type Party,
  pathOf,
  PUBLIC,
  type TwinBody,
} from './support/factories.js';
import { TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { cacheFigures } from './support/two-instances.js';

describe.each([
  { MAX_ENTRIES: 50, MAX_BYTES: 40_000, binding: 'the entry bound' },
  { MAX_ENTRIES: 1000, MAX_BYTES: 20_000, binding: 'the byte bound' },
])(
  'cache bounds ($MAX_ENTRIES entries, $MAX_BYTES bytes: $binding binds)',
  ({ MAX_ENTRIES, MAX_BYTES, binding }) => {
    let api: TestApi;
    let fx: Fixtures;
    let alice: Party;
    let bob: Party;
    /** name → what alice resolving it in system context must answer (twin UUIDs in answer order). */
    const expected = new Map<string, string[]>();
    /** name → what alice resolving it with details=true (personal context) must answer. */
    const expectedDetailed = new Map<string, string[]>();

    beforeAll(async () => {
      api = await TestApi.start(
        isolatedConfig({ CACHE_MAX_ENTRIES: String(MAX_ENTRIES), CACHE_MAX_BYTES: String(MAX_BYTES) }),
      );
      fx = await Fixtures.connect(api);
      alice = await fx.anAccount('alice');
      bob = await fx.anAccount('bob');

      // Twins in creation order, so the expected answer order is the order of this list.
      const aliceTwins: TwinBody[] = [];
      for (let i = 0; i < 8; i++) aliceTwins.push(await aTwin(api, alice, { n: i }));
      const bobTwin = await aTwin(api, bob);
      const sorted = (twins: TwinBody[]) =>
        [...twins]
          .sort(
            (x, y) =>
              x.creation_certificate.created_ts - y.creation_certificate.created_ts ||
              (x.uuid < y.uuid ? -1 : 1),
          )
          .map((t) => t.uuid);

      // 600 names: each on one of alice's twins, every third also on a second one; bob adds a public row to every
      // fifth and a private row to every seventh (alice must never see the private ones). Bulk: 1,000 per POST.
      const names = Array.from({ length: 600 }, () => aName());
      const aliceRows = new Map<string, Record<string, ReturnType<typeof anIdentity>>>();
      const on = new Map<string, TwinBody[]>();
      names.forEach((name, i) => {
        const twins = [aliceTwins[i % 8]];
        if (i % 3 === 0) twins.push(aliceTwins[(i + 3) % 8]);
        for (const t of twins) {
          const batch = aliceRows.get(t.uuid) ?? {};
          batch[name] = anIdentity();
          aliceRows.set(t.uuid, batch);
        }
        on.set(name, twins);
      });
      for (const [twin, identities] of aliceRows) {
        expectStatus(
          await api.post(`/twins/${twin}/identities`, { secret: alice.secret, body: { identities } }),
          201,
        );
      }
      const bobPublic = names.filter((_, i) => i % 5 === 0);
      const bobPrivate = names.filter((_, i) => i % 7 === 0 && i % 5 !== 0);
      const bobBody = Object.fromEntries([
        ...bobPublic.map((n) => [n, anIdentity({ visibility: PUBLIC })] as const),
        ...bobPrivate.map((n) => [n, anIdentity()] as const),
      ]);
      expect(Object.keys(bobBody).length).toBeLessThanOrEqual(1000);
      expectStatus(
        await api.post(`/twins/${bobTwin.uuid}/identities`, {
          secret: bob.secret,
          body: { identities: bobBody },
        }),
        201,
      );

      for (const name of names) {
        const mine = on.get(name) as TwinBody[];
        expected.set(name, sorted(bobPublic.includes(name) ? [...mine, bobTwin] : mine));
        expectedDetailed.set(name, sorted(mine));
      }
      // Unknown names are cached too (negative entries) and compete for the same room.
      for (let i = 0; i < 150; i++) {
        const unknown = aName('GTIN');
        expected.set(unknown, []);
        expectedDetailed.set(unknown, []);
      }
    });
    afterAll(async () => {
      await fx.close();
      await api.stop();
    });

    async function expectWithinBounds(): Promise<void> {
      const identity = await cacheFigures(api, 'identity');
      expect(identity.entries).toBeLessThanOrEqual(MAX_ENTRIES);
      expect(identity.bytes).toBeLessThanOrEqual(MAX_BYTES);
      // The twin cache gets a tenth of the bounds.
      const twin = await cacheFigures(api, 'twin');
      expect(twin.entries).toBeLessThanOrEqual(MAX_ENTRIES / 10);
      expect(twin.bytes).toBeLessThanOrEqual(MAX_BYTES / 10);
    }

    it('resolves every name correctly, one by one, while the cache stays within its bounds', async () => {
      const names = fc.sample(fc.shuffledSubarray([...expected.keys()], { minLength: expected.size }), {
        numRuns: 1,
        seed: 42,
      })[0];
      let checked = 0;
      for (const name of names) {
        const res = await api.get(`/resolve/${pathOf(name)}`, {
          secret: alice.secret,
          query: { context: 'system' },
        });
        expect({ name, twins: res.body.twins }).toEqual({ name, twins: expected.get(name) });
        if (++checked % 100 === 0) await expectWithinBounds();
      }
      await expectWithinBounds();
      const figures = await cacheFigures(api, 'identity');
      expect(figures.evictions).toBeGreaterThan(0);
      // Full: filled up to one of its bounds (an entry costs a few hundred bytes), not merely kept small.
      if (binding === 'the byte bound') {
        expect(figures.entries).toBeLessThan(MAX_ENTRIES);
        expect(figures.bytes).toBeGreaterThan(MAX_BYTES - 1000);
      } else {
        expect(figures.entries).toBe(MAX_ENTRIES);
      }
    });

    it('resolves every name correctly in batches of up to 1,000, in details mode too', async () => {
      const all = [...expected.keys()];
      for (const [details, want] of [
        [false, expected],
        [true, expectedDetailed],
      ] as const) {
        for (let from = 0; from < all.length; from += 250) {
          const names = all.slice(from, from + 250);
          const res = await api.post('/resolve', {
            secret: alice.secret,
            body: { identities: names, context: details ? 'personal' : 'system', details },
          });
          expectStatus(res, 200);
          for (const name of names) {
            const twins = res.body.results[name].twins as Array<string | TwinBody>;
            const uuids = twins.map((t) => (typeof t === 'string' ? t : t.uuid));
            expect({ name, details, uuids }).toEqual({ name, details, uuids: want.get(name) });
          }
          await expectWithinBounds();
        }
      }
      const whole = await api.post('/resolve', {
        secret: alice.secret,
        body: { identities: all.slice(0, 1000), context: 'system' },
      });
      for (const name of all.slice(0, 1000))
        expect(whole.body.results[name].twins).toEqual(expected.get(name));
      await expectWithinBounds();
    });

    it('keeps answering correctly with random re-reads of a hot set and a cold tail', async () => {
      const all = [...expected.keys()];
      const hot = all.slice(0, 20);
      const before = await cacheFigures(api, 'identity');
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(fc.constantFrom(...hot), fc.constantFrom(...all)), {
            minLength: 20,
            maxLength: 60,
          }),
          async (names) => {
            for (const name of names) {
              const res = await api.get(`/resolve/${pathOf(name)}`, {
                secret: alice.secret,
                query: { context: 'system' },
              });
              expect(res.body.twins).toEqual(expected.get(name));
            }
          },
        ),
        { numRuns: 10, endOnFailure: true },
      );
      await expectWithinBounds();
      const after = await cacheFigures(api, 'identity');
      expect(after.hits).toBeGreaterThan(before.hits);
      expect(after.evictions).toBeGreaterThan(before.evictions);
    });
  },
);
