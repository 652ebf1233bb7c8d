import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/twindex');
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.TWINDEX_OPERATOR_KEY).toBeUndefined();
    expect(c.TWIN_SHARING).toBe('open');
  });

  it('takes TWIN_SHARING open or closed only', () => {
    expect(loadConfig({ TWIN_SHARING: 'closed' }).TWIN_SHARING).toBe('closed');
    expect(() => loadConfig({ TWIN_SHARING: 'shut' })).toThrow(/TWIN_SHARING/);
  });

  it('names the variable in one line when a value is invalid', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^Invalid configuration: PORT /);
    expect(() => loadConfig({ TWINDEX_OPERATOR_KEY: 'short' })).toThrow(/TWINDEX_OPERATOR_KEY/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: '  ' }).PORT).toBe(8080);
  });
});
