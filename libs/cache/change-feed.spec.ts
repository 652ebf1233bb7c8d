import { ChangeFeed, type ChangeListener } from './change-feed.js';

/** Nothing listens there: connecting is refused at once. */
const UNREACHABLE = 'postgres://postgres@127.0.0.1:1/twindex';

function recorder(): ChangeListener & { trust: boolean[] } {
  const trust: boolean[] = [];
  return { trust, onChange: () => undefined, onTrust: (t) => trust.push(t) };
}

describe('ChangeFeed without its database', () => {
  it('tells a listener that subscribes while the channel is down not to trust its cache', () => {
    const feed = new ChangeFeed(UNREACHABLE);
    const listener = recorder();
    feed.subscribe('i', listener);
    expect(feed.isConnected).toBe(false);
    expect(listener.trust).toEqual([false]);
  });

  it('starts without throwing when the database is unreachable, never trusts, and stops retrying on stop()', async () => {
    const feed = new ChangeFeed(UNREACHABLE);
    const identities = recorder();
    const access = recorder();
    feed.subscribe('i', identities);
    feed.subscribe('a', access);
    await feed.start();
    expect(feed.isConnected).toBe(false);
    // Retries run in the background with backoff; none of them may claim the channel is up.
    await new Promise((r) => setTimeout(r, 400));
    expect(feed.isConnected).toBe(false);
    for (const l of [identities, access]) {
      expect(l.trust.length).toBeGreaterThanOrEqual(2);
      expect(l.trust.every((t) => t === false)).toBe(true);
    }
    await feed.stop();
    const seen = identities.trust.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(identities.trust.length).toBe(seen);
    // The test hook is harmless without a connection.
    expect(() => feed.killConnection()).not.toThrow();
  });
});
