import { parseTrustedTwinHeader } from './trusted-twin-header.js';

describe('X-TrustedTwin header', () => {
  it('reads plain JSON and base64 JSON alike', () => {
    const obj = { site: 'WAW-1', n: 2 };
    expect(parseTrustedTwinHeader(JSON.stringify(obj))).toEqual(obj);
    expect(parseTrustedTwinHeader(Buffer.from(JSON.stringify(obj)).toString('base64'))).toEqual(obj);
  });
  it.each(['[1]', 'bnVsbA==', 'not base64!', '{bad json', 'WzFd'])('refuses %s with invalid_header', (v) => {
    expect(() => parseTrustedTwinHeader(v)).toThrow(expect.objectContaining({ subcode: 'invalid_header' }));
  });
});
