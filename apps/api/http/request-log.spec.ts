import { formatRequestLine } from './request-log.js';

describe('formatRequestLine', () => {
  it('writes one parseable JSON line with the fields docs/operations.md lists', () => {
    const line = formatRequestLine(
      {
        method: 'GET',
        route: '/resolve/:identity',
        status: 200,
        durationMs: 0.4567,
        trace: 't-1',
        account: 'acc',
      },
      1700000000000,
    );
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      time: 1700000000000,
      msg: 'request',
      method: 'GET',
      route: '/resolve/:identity',
      status: 200,
      duration_ms: 0.46,
      trace: 't-1',
      account: 'acc',
    });
  });

  it('leaves out the account of an unauthenticated request and escapes odd routes', () => {
    const line = formatRequestLine(
      { method: 'GET', route: 'a"b', status: 401, durationMs: 1, trace: 't', account: undefined },
      1,
    );
    const parsed = JSON.parse(line);
    expect(parsed.account).toBeUndefined();
    expect(parsed.route).toBe('a"b');
  });
});
