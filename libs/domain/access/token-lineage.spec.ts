import { childExpiryCap, optionsBeyondParent } from './token-lineage.js';

describe('token lineage', () => {
  it('lets a secret mint any options', () => {
    expect(optionsBeyondParent(undefined, ['create', 'refresh'])).toEqual([]);
    expect(childExpiryCap(undefined)).toBeNull();
  });

  it('lets a token hand down only the options it holds', () => {
    const createOnly = { options: ['create'] as const, validityTs: 100 };
    expect(optionsBeyondParent(createOnly, [])).toEqual([]);
    expect(optionsBeyondParent(createOnly, ['create'])).toEqual([]);
    expect(optionsBeyondParent(createOnly, ['refresh'])).toEqual(['refresh']);
    expect(optionsBeyondParent(createOnly, ['refresh', 'create', 'refresh'])).toEqual(['refresh']);
    expect(optionsBeyondParent({ options: ['create', 'refresh'], validityTs: 100 }, ['refresh'])).toEqual([]);
  });

  it('caps a child at its parent’s expiry', () => {
    expect(childExpiryCap({ options: ['create'], validityTs: 1234.5 })).toBe(1234.5);
  });
});
