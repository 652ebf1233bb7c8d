import fc from 'fast-check';
import { encodeSubscriptionToken, parseSubscriptionToken } from './subscription-token.js';

const SUB = '0b6c7c4e-5d0e-4c55-9a43-0c1d5e7b9a10';
const ACCOUNT = '7f0e4b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b';

/** What Trusted Twin's Python client does with the token: b64decode, decode, split on '___', account second. */
function asThePythonClientParses(token: string): { account: string; parts: number } {
  const parts = Buffer.from(token, 'base64').toString('utf8').split('___');
  return { account: parts[1], parts: parts.length };
}

describe('subscription token', () => {
  it('decodes as Trusted Twin clients parse it: four parts, the account second', () => {
    const token = encodeSubscriptionToken({
      subscription: SUB,
      account: ACCOUNT,
      nonce: '0a1b',
      mac: 'c0ffee',
    });
    expect(token).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(asThePythonClientParses(token)).toEqual({ account: ACCOUNT, parts: 4 });
  });

  it('round-trips any hex nonce and mac', () => {
    const part = fc.stringMatching(/^[0-9a-f]{1,64}$/);
    fc.assert(
      fc.property(part, part, (nonce, mac) => {
        const token = encodeSubscriptionToken({ subscription: SUB, account: ACCOUNT, nonce, mac });
        expect(parseSubscriptionToken(token)).toEqual({ subscription: SUB, account: ACCOUNT, nonce, mac });
      }),
    );
  });

  it.each([
    ['not base64', 'not base64!'],
    ['three parts', Buffer.from(`${SUB}___${ACCOUNT}___x`).toString('base64')],
    ['five parts', Buffer.from(`${SUB}___${ACCOUNT}___x___y___z`).toString('base64')],
    ['no uuid', Buffer.from(`a___${ACCOUNT}___x___y`).toString('base64')],
    ['too long', 'A'.repeat(600)],
    ['a number', 42],
    ['empty', ''],
  ])('refuses %s', (_name, token) => {
    expect(parseSubscriptionToken(token)).toBeNull();
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseSubscriptionToken(s)));
  });
});
