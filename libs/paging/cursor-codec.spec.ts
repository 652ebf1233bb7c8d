import fc from 'fast-check';
import { decodeCursor, encodeCursor } from './cursor-codec.js';

describe('cursor codec', () => {
  it('decodes what it encoded', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))),
        (parts) => {
          expect(decodeCursor(encodeCursor(parts), 10_000)).toEqual(
            parts.map((p) => (Object.is(p, -0) ? 0 : p)),
          );
        },
      ),
    );
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/'],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['JSON but not an array', Buffer.from('{"a":1}').toString('base64url')],
    ['over the length limit', encodeCursor(['x'.repeat(100)])],
  ])('answers null for a token that is %s', (_what, token) => {
    expect(decodeCursor(token, 64)).toBeNull();
  });
});
