import { illFormedTextPath } from './well-formed-text.js';

describe('illFormedTextPath', () => {
  it('accepts well-formed text, astral characters included', () => {
    expect(illFormedTextPath({ a: ['x', '😀', { b: 'ü' }], n: 1, z: null })).toBeNull();
    expect(illFormedTextPath(undefined)).toBeNull();
  });

  it('names the first lone surrogate in values and keys, at any depth', () => {
    expect(illFormedTextPath('\ud800')).toBe('(body)');
    expect(illFormedTextPath({ description: { x: ['ok', 'a\udc00'] } })).toBe('description.x.1');
    expect(illFormedTextPath({ d: { ['k\ud83d']: 1 } })).toBe('d.(key)');
    let deep: unknown = '\ud800';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(illFormedTextPath(deep)).not.toBeNull();
  });
});
