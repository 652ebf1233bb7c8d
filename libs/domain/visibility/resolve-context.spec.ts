import fc from 'fast-check';
import type { ResolveContext } from '../model.js';
import { InvalidParameterError } from './query-parameters.js';
import { MAX_CONTEXT_ACCOUNTS, parseDetails, parseResolveContext } from './resolve-context.js';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const accounts = (...list: string[]): ResolveContext => ({ kind: 'accounts', accounts: new Set(list) });

/** n distinct UUIDs. */
const uuids = (n: number) =>
  Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);

describe('parseResolveContext', () => {
  it.each<[string, unknown, ResolveContext]>([
    ['absent → personal', undefined, { kind: 'personal' }],
    ['personal', 'personal', { kind: 'personal' }],
    ['PERSONAL (any case)', 'PERSONAL', { kind: 'personal' }],
    ['system', 'system', { kind: 'system' }],
    ['System', 'System', { kind: 'system' }],
    ['single keyword in an array (JSON body)', ['system'], { kind: 'system' }],
    ['one UUID', A, accounts(A)],
    ['one UUID, uppercase → lowercased', A.toUpperCase(), accounts(A)],
    ['repeated parameters', [A, B], accounts(A, B)],
    ['comma-separated', `${A},${B}`, accounts(A, B)],
    ['both forms', [`${A},${B}`, A], accounts(A, B)],
    ['blanks around commas', `${A} , ${B}`, accounts(A, B)],
    ['duplicates collapse', [A, A.toUpperCase(), A], accounts(A)],
    ['exactly 100 accounts', uuids(MAX_CONTEXT_ACCOUNTS).join(','), accounts(...uuids(MAX_CONTEXT_ACCOUNTS))],
    [
      '101 items but 100 distinct',
      [...uuids(MAX_CONTEXT_ACCOUNTS), uuids(1)[0]],
      accounts(...uuids(MAX_CONTEXT_ACCOUNTS)),
    ],
  ])('%s', (_label, raw, expected) => {
    expect(parseResolveContext(raw)).toEqual(expected);
  });

  it.each<[string, unknown, string]>([
    ['empty string', '', 'has an empty item'],
    ['empty item', `${A},,${B}`, 'has an empty item'],
    ['trailing comma', `${A},`, 'has an empty item'],
    ['not a UUID', 'nobody', "item 'nobody' is not personal, system or an account UUID"],
    ['braced UUID', `{${A}}`, `item '{${A}}' is not personal, system or an account UUID`],
    ['keyword in a list', ['personal', A], 'cannot combine personal with other values'],
    ['two keywords', 'personal,system', 'cannot combine personal with other values'],
    ['system twice', ['system', 'system'], 'cannot combine system with other values'],
    ['101 accounts', uuids(MAX_CONTEXT_ACCOUNTS + 1), 'names more than 100 accounts'],
    ['empty array', [], 'must be personal, system, an account UUID or a non-empty list of them'],
    ['number', 5, 'must be personal, system, an account UUID or a non-empty list of them'],
    [
      'array with a non-string',
      [A, 5],
      'must be personal, system, an account UUID or a non-empty list of them',
    ],
  ])('rejects %s', (_label, raw, reason) => {
    expect(() => parseResolveContext(raw)).toThrow(new InvalidParameterError('context', reason));
    try {
      parseResolveContext(raw);
    } catch (e) {
      expect((e as InvalidParameterError).parameter).toBe('context');
    }
  });

  it('any split of a UUID list into repeated and comma-separated parameters, in any case, parses to the distinct lowercase set', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uuid(), { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        (list, upper, split) => {
          const spelled = list.map((u, i) => (upper[i] ? u.toUpperCase() : u));
          const values: string[] = [];
          for (const [i, u] of spelled.entries()) {
            if (i > 0 && !split[i]) values[values.length - 1] += `,${u}`;
            else values.push(u);
          }
          const parsed = parseResolveContext(values.length === 1 ? values[0] : values);
          expect(parsed).toEqual(accounts(...list.map((u) => u.toLowerCase())));
        },
      ),
    );
  });

  it('more than 100 distinct accounts are always refused', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uuid(), { minLength: 101, maxLength: 130 }), (list) => {
        expect(() => parseResolveContext(list.join(','))).toThrow(InvalidParameterError);
      }),
      { numRuns: 20 },
    );
  });
});

describe('parseDetails', () => {
  it.each<[unknown, boolean]>([
    [undefined, false],
    ['true', true],
    ['TRUE', true],
    ['false', false],
    [true, true],
  ])('%p → %p', (raw, expected) => {
    expect(parseDetails(raw)).toBe(expected);
  });

  it('names the parameter when refusing', () => {
    expect(() => parseDetails('yes')).toThrow(
      new InvalidParameterError('details', "must be true or false, not 'yes'"),
    );
  });
});
