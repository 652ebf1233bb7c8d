import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { isolatedConfig } from './support/test-env.js';
import { TestApi, type TestAccount } from './support/test-app.js';
import { clearQueues, startWorker, syncAndWait } from './upstream-simulator/sync-harness.js';

/** Twindex serves the API it consumes: instance B (an edge resolver) mirrors instance A (the central one). */
describe('Twindex-to-Twindex sync', () => {
  let central: TestApi;
  let edge: TestApi;
  let worker: INestApplicationContext;
  let atCentral: TestAccount;
  let atEdge: TestAccount;
  let source: string;
  const twins: string[] = [];
  const account = randomUUID();

  beforeAll(async () => {
    central = await TestApi.start();
    edge = await TestApi.start(isolatedConfig());
    // The same account on both instances: account UUIDs are shared with the upstream.
    atCentral = await central.createAccount('logistics', account);
    atEdge = await edge.createAccount('logistics', account);
    for (let t = 0; t < 30; t++) {
      const twin = await central.post('/twins', {
        secret: atCentral.secret,
        body: { description: { dock: t } },
      });
      twins.push(twin.body.uuid);
      const identities: Record<string, { visibility?: string | null; validity_ts?: number | null }> = {
        [`RFID#e${t}`]: { visibility: 'true' },
        [`GTIN#0590${t}`]: {},
      };
      if (t % 4 === 0) identities[`SN#old${t}`] = { validity_ts: 1_000_000 };
      const res = await central.post(`/twins/${twin.body.uuid}/identities`, {
        secret: atCentral.secret,
        body: { identities },
      });
      expect(res.status).toBe(201);
    }
    // B's worker: the edge syncs from the central instance's HTTP API with the account's secret there.
    const res = await edge.post('/sync/sources', {
      secret: atEdge.secret,
      body: { name: 'central', base_url: central.baseUrl, secret: atCentral.secret, max_rate: 1000 },
    });
    source = res.body.uuid;
    worker = await startWorker(edge.config);
  }, 60_000);
  afterAll(async () => {
    await worker.close();
    await clearQueues(edge.config);
    await edge.stop();
    await central.stop();
  }, 60_000);

  /** Both instances answer the same for every twin's identities (expired ones included) and every twin. */
  const expectSameAnswers = async () => {
    for (const twin of twins) {
      const query = { show_expired: 'true' };
      const a = await central.get(`/twins/${twin}/identities`, { secret: atCentral.secret, query });
      const b = await edge.get(`/twins/${twin}/identities`, { secret: atEdge.secret, query });
      expect({ twin, status: b.status, body: b.body }).toEqual({ twin, status: a.status, body: a.body });
      const ta = await central.get(`/twins/${twin}`, { secret: atCentral.secret });
      const tb = await edge.get(`/twins/${twin}`, { secret: atEdge.secret });
      expect({ status: tb.status, body: tb.body }).toEqual({ status: ta.status, body: ta.body });
    }
    for (const name of ['RFID#e3', 'GTIN#05907', 'SN#old8']) {
      const query = { details: 'true' };
      const a = await central.get(`/resolve/${encodeURIComponent(name)}`, {
        secret: atCentral.secret,
        query,
      });
      const b = await edge.get(`/resolve/${encodeURIComponent(name)}`, { secret: atEdge.secret, query });
      expect(b.body).toEqual(a.body);
    }
  };

  it('mirrors the central instance: same identities, same twins, same resolutions', async () => {
    const run = await syncAndWait(edge, atEdge.secret, source);
    expect(run).toMatchObject({
      status: 'completed',
      counts: { twins: 30, upserted: 68, deleted: 0, failed: 0 },
    });
    await expectSameAnswers();
  }, 60_000);

  it('follows changes made at the central instance', async () => {
    await central.delete(`/twins/${twins[1]}/identities/${encodeURIComponent('RFID#e1')}`, {
      secret: atCentral.secret,
    });
    await central.patch(`/twins/${twins[2]}/identities/${encodeURIComponent('GTIN#05902')}`, {
      secret: atCentral.secret,
      body: { visibility: 'false' },
    });
    await central.post(`/twins/${twins[3]}/identities`, {
      secret: atCentral.secret,
      body: { identities: { 'RFID#new3': {} } },
    });
    await central.delete(`/twins/${twins[4]}`, { secret: atCentral.secret });
    const run = await syncAndWait(edge, atEdge.secret, source);
    expect(run).toMatchObject({ status: 'completed', counts: { upserted: 2, deleted: 1, failed: 0 } });
    await expectSameAnswers();
    const again = await syncAndWait(edge, atEdge.secret, source);
    expect(again.counts).toMatchObject({ upserted: 0, deleted: 0 });
  }, 60_000);
});
