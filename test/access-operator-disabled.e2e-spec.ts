import { expectErrorShape, TestApi } from './support/test-app.js';
import { isolatedConfig, OPERATOR_KEY } from './support/test-env.js';

/**
 * docs/access.md: without TWINDEX_OPERATOR_KEY, account creation is disabled — for every key, the right one included.
 */
describe('account creation without TWINDEX_OPERATOR_KEY', () => {
  let api: TestApi;
  beforeAll(async () => {
    // A blank value counts as unset, as it would in a .env file.
    api = await TestApi.start(isolatedConfig({ TWINDEX_OPERATOR_KEY: '' }));
  });
  afterAll(async () => {
    await api.stop();
  });

  it.each([
    ['the usual operator key', { authorization: `Bearer ${OPERATOR_KEY}` }],
    ['no key', {}],
  ])('answers 403 forbidden to %s', async (_label, headers) => {
    const res = await api.post('/accounts', { headers, body: { name: 'acme' } });
    expectErrorShape(res, 403, 'forbidden');
    expect(res.body.description).toContain('TWINDEX_OPERATOR_KEY');
  });
});
