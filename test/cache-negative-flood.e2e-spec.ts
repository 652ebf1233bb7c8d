/**
 * A cache that keeps what is hot (issue #21): tenant X resolving many names that exist nowhere fills the cache with
 * "nothing there" entries; those must not evict tenant Y's warm names, and the cache stays within its bounds.
 */
import { aName, aTwin, attach, Fixtures, type Party } from './support/factories.js';
import { TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { cacheFigures, resolveNames as resolveAll } from './support/two-instances.js';

const MAX_ENTRIES = 2000;
const MAX_BYTES = 1_000_000;

describe('negative entries cannot evict warm names', () => {
  let api: TestApi;
  let x: Party;
  let y: Party;
  let yTwin: string;
  const yNames: string[] = [];

  beforeAll(async () => {
    api = await TestApi.start(
      isolatedConfig({ CACHE_MAX_ENTRIES: String(MAX_ENTRIES), CACHE_MAX_BYTES: String(MAX_BYTES) }),
    );
    const fx = await Fixtures.connect(api);
    x = await fx.anAccount('x');
    y = await fx.anAccount('y');
    yTwin = (await aTwin(api, y)).uuid;
    for (let i = 0; i < 300; i++) yNames.push(aName('YWARM'));
    for (let i = 0; i < yNames.length; i += 100) {
      await attach(api, y, yTwin, Object.fromEntries(yNames.slice(i, i + 100).map((n) => [n, {}])));
    }
  }, 60_000);

  afterAll(async () => {
    await api.stop();
  });

  it("keeps Y's warm names cached while X resolves 20,000 names that do not exist", async () => {
    const warm = await resolveAll(api, y, yNames);
    expect(yNames.every((n) => warm.get(n)?.[0] === yTwin)).toBe(true);

    const flood = Array.from({ length: 20_000 }, () => aName('XRAND'));
    const answered = await resolveAll(api, x, flood);
    expect([...answered.values()].every((twins) => twins.length === 0)).toBe(true);
    // The flood's last names are cached: asking for them again loads nothing.
    const tail = flood.slice(-100);
    const beforeTail = await cacheFigures(api, 'identity');
    await resolveAll(api, x, tail);
    const afterTail = await cacheFigures(api, 'identity');
    console.log(`flood tail re-asked: ${afterTail.misses - beforeTail.misses} of ${tail.length} missed`);
    expect(afterTail.misses - beforeTail.misses).toBe(0);

    const before = await cacheFigures(api, 'identity');
    const again = await resolveAll(api, y, yNames);
    const after = await cacheFigures(api, 'identity');
    expect(yNames.every((n) => again.get(n)?.[0] === yTwin)).toBe(true);
    console.log(
      `Y's warm names after the flood: ${after.hits - before.hits} hits, ${after.misses - before.misses} misses; ` +
        `cache ${after.entries} entries, ${after.bytes} bytes, ${after.evictions} evictions`,
    );
    expect(after.misses - before.misses).toBe(0);
    expect(after.entries).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(after.bytes).toBeLessThanOrEqual(MAX_BYTES);
  }, 120_000);
});
