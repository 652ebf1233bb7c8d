import { ChangeFeed } from '../libs/cache/change-feed.js';
import { TestApi } from './support/test-app.js';
import { holdNotifications, sleep } from './support/two-instances.js';

/**
 * A listening connection that dies without an error (partition, NAT timeout) must not leave the caches trusted:
 * the feed pings itself through the channel and gives the connection up when the echo stops coming back.
 */
describe('change feed heartbeat', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api.stop();
  });

  it('stops trusting the caches when the channel goes silent, then reconnects by itself', async () => {
    const feed = api.app.get(ChangeFeed);
    expect(feed.isConnected).toBe(true);
    const trustChanges: boolean[] = [];
    feed.subscribe('i', { onChange: () => undefined, onTrust: (t) => trustChanges.push(t) });

    // The socket stops being read: no error, no end, just silence — as on a dead network path.
    holdNotifications(api);
    const heldAt = Date.now();
    while (feed.isConnected && Date.now() - heldAt < 5000) await sleep(50);
    expect(feed.isConnected).toBe(false);
    expect(Date.now() - heldAt).toBeLessThan(2500);

    const lostAt = Date.now();
    while (!feed.isConnected && Date.now() - lostAt < 10_000) await sleep(50);
    expect(feed.isConnected).toBe(true);
    expect(trustChanges).toEqual([false, true]);
    expect(feed.losses).toEqual({ silent: 1, failed: 0, ended: 0 });
    // What an operator sees: the loss, and how it happened.
    const metrics = await api.get('/metrics');
    expect(metrics.text).toMatch(/^twindex_cache_channel_losses_total\{how="silent"\} 1$/m);
  });
});
