import { MissBatcher } from './miss-batcher.js';

/** A batcher whose source answers every key upper-cased, except `none`, and records its calls. */
function upperCaseBatcher() {
  const calls: string[][] = [];
  const b = new MissBatcher<string>(
    (keys) => {
      calls.push(keys);
      return Promise.resolve(new Map(keys.filter((k) => k !== 'none').map((k) => [k, k.toUpperCase()])));
    },
    () => 'ABSENT',
  );
  return { calls, b };
}

describe('MissBatcher', () => {
  it('loads keys missed in the same turn with one call and answers absent keys', async () => {
    const { calls, b } = upperCaseBatcher();
    const answers = await Promise.all([b.load('a'), b.load('b'), b.load('a'), b.load('none')]);
    expect(answers).toEqual(['A', 'B', 'A', 'ABSENT']);
    expect(calls).toEqual([['a', 'b', 'none']]);
  });

  it('answers a whole batch of keys with one waiter, sharing the call with single loads of the same turn', async () => {
    const { calls, b } = upperCaseBatcher();
    const [one, all] = await Promise.all([b.load('a'), b.loadAll(['b', 'a', 'none'])]);
    expect(one).toBe('A');
    expect(all).toEqual(
      new Map([
        ['a', 'A'],
        ['b', 'B'],
        ['none', 'ABSENT'],
      ]),
    );
    expect(calls).toEqual([['a', 'b', 'none']]);
  });

  it('passes a failed load on to every waiter of the batch', async () => {
    const b = new MissBatcher<string>(
      async () => {
        throw new Error('db down');
      },
      () => '',
    );
    await expect(Promise.all([b.load('a'), b.load('b')])).rejects.toThrow('db down');
  });
});
