import { connectionBudget, parseDescriptorLimit } from './connection-budget.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63704                63704                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('connection budget', () => {
  it('reads the open-files limits of /proc/self/limits', () => {
    expect(parseDescriptorLimit(LIMITS)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseDescriptorLimit(LIMITS.replace('1024 ', 'unlimited'))).toEqual({
      soft: Infinity,
      hard: 524288,
    });
    expect(parseDescriptorLimit('Max processes 1 1 processes')).toBeUndefined();
  });

  it('keeps a quarter of the descriptors (at least 256) for files and sockets', () => {
    const low = connectionBudget(
      { maxConnections: 'auto', perAddress: 'auto' },
      { soft: 1024, hard: 524288 },
    );
    expect(low).toMatchObject({ maxConnections: 768, perAddress: 192, softLimit: 1024 });
    const high = connectionBudget(
      { maxConnections: 'auto', perAddress: 'auto' },
      { soft: 65536, hard: 65536 },
    );
    expect(high).toMatchObject({ maxConnections: 49152, perAddress: 1024, warning: undefined });
  });

  it('warns with the fix when the soft limit is low', () => {
    const { warning } = connectionBudget(
      { maxConnections: 'auto', perAddress: 'auto' },
      { soft: 1024, hard: 524288 },
    );
    expect(warning).toContain('soft limit is 1024');
    expect(warning).toContain('ulimit -n 524288');
  });

  it('takes configured caps as given and warns when they eat into the reserve', () => {
    const budget = connectionBudget({ maxConnections: 5000, perAddress: 10 }, { soft: 4096, hard: 4096 });
    expect(budget).toMatchObject({ maxConnections: 5000, perAddress: 10 });
    expect(budget.warning).toContain('HTTP_MAX_CONNECTIONS=5000');
    expect(
      connectionBudget({ maxConnections: 100, perAddress: 10 }, { soft: 4096, hard: 4096 }).warning,
    ).toBe(undefined);
  });
});
