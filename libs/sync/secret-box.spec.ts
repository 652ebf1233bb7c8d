import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  const box = new SecretBox('k'.repeat(40));

  it('opens what it sealed for the same context', () => {
    const sealed = box.seal('upstream-secret', 'source-1');
    expect(sealed.toString('utf8')).not.toContain('upstream-secret');
    expect(box.open(sealed, 'source-1')).toBe('upstream-secret');
  });

  it('uses a fresh IV each time', () => {
    expect(box.seal('s', 'c').equals(box.seal('s', 'c'))).toBe(false);
  });

  it('refuses another context, another key and altered bytes', () => {
    const sealed = box.seal('upstream-secret', 'source-1');
    expect(() => box.open(sealed, 'source-2')).toThrow();
    expect(() => new SecretBox('x'.repeat(40)).open(sealed, 'source-1')).toThrow();
    const altered = Buffer.from(sealed);
    altered[altered.length - 1] ^= 1;
    expect(() => box.open(altered, 'source-1')).toThrow();
  });
});
