import type { LookupAddress } from 'node:dns';
import { AddressRefused, UpstreamAddressPolicy } from './upstream-address.js';

const resolverOf =
  (table: Record<string, string[]>) =>
  async (host: string): Promise<LookupAddress[]> => {
    const found = table[host];
    if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const DNS = resolverOf({
  'public.example': ['93.184.216.34'],
  'sneaky.example': ['93.184.216.34', '127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'inside.example': ['10.0.0.7'],
  localhost: ['127.0.0.1', '::1'],
});

describe('UpstreamAddressPolicy', () => {
  const strict = new UpstreamAddressPolicy([], DNS);

  it.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3/',
    'http://192.168.0.1/',
    'http://172.16.0.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://[fe80::1]/',
    'http://[fc00::1]/',
    'http://[2002:7f00:1::]/',
    'http://localhost/',
    'http://sneaky.example/',
    'http://metadata.example/',
    'http://inside.example/',
  ])('refuses %s at creation', async (url) => {
    await expect(strict.checkUrl(url)).rejects.toBeInstanceOf(AddressRefused);
  });

  it('accepts public addresses, and names that do not resolve yet (checked again at connect)', async () => {
    await expect(strict.checkUrl('https://public.example/api')).resolves.toBeUndefined();
    await expect(strict.checkUrl('https://93.184.216.34/')).resolves.toBeUndefined();
    await expect(strict.checkUrl('https://[2001:4860:4860::8888]/')).resolves.toBeUndefined();
    await expect(strict.checkUrl('https://not-yet.example/')).resolves.toBeUndefined();
  });

  it('lets the operator allow names, addresses and ranges', async () => {
    const open = new UpstreamAddressPolicy(['localhost', '127.0.0.1', '10.0.0.0/8', '[::1]'], DNS);
    await expect(open.checkUrl('http://localhost:8080/')).resolves.toBeUndefined();
    await expect(open.checkUrl('http://127.0.0.1/')).resolves.toBeUndefined();
    await expect(open.checkUrl('http://[::1]/')).resolves.toBeUndefined();
    await expect(open.checkUrl('http://inside.example/')).resolves.toBeUndefined();
    await expect(open.checkUrl('http://169.254.169.254/')).rejects.toBeInstanceOf(AddressRefused);
  });

  it('refuses at connect time what DNS answers then, and pins the checked address', async () => {
    const lookup = (host: string, all: boolean) =>
      new Promise<{ err: unknown; result: unknown }>((resolve) =>
        strict.lookup(host, { all }, (err, address, family) =>
          resolve({ err, result: all ? address : [address, family] }),
        ),
      );
    expect((await lookup('localhost', true)).err).toBeInstanceOf(AddressRefused);
    expect((await lookup('sneaky.example', false)).err).toBeInstanceOf(AddressRefused);
    expect(await lookup('public.example', false)).toEqual({ err: null, result: ['93.184.216.34', 4] });
    expect(await lookup('public.example', true)).toEqual({
      err: null,
      result: [{ address: '93.184.216.34', family: 4 }],
    });
  });

  it('checks IP literals at send time (no lookup happens for them)', () => {
    expect(() => strict.checkLiteral(new URL('http://2130706433/'))).toThrow(AddressRefused);
    expect(() => strict.checkLiteral(new URL('http://[::1]:8080/'))).toThrow(AddressRefused);
    expect(() => strict.checkLiteral(new URL('http://public.example/'))).not.toThrow();
  });
});
