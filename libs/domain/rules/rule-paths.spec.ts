import { parseRule } from './rule-parser.js';
import { nullPaths, rulePaths, valueAt } from './rule-paths.js';

const paths = (text: string) => rulePaths(parseRule(text)).map((p) => p.text);

describe('rulePaths', () => {
  it('names each read once, as written, in order of appearance', () => {
    expect(paths("DICT.site == 'WAW' and TWIN[\"serial-no\"] =~ 'A.*' or DICT.site != now")).toEqual([
      'DICT.site',
      'TWIN["serial-no"]',
      'now',
    ]);
  });

  it('follows safe navigation and literal indices, and stops at a computed key', () => {
    expect(paths('TWIN&.a&.b == DICT.sites[0]')).toEqual(['TWIN.a.b', 'DICT.sites[0]']);
    expect(paths('DICT[USER.key] in [account, 1]')).toEqual(['DICT', 'USER.key', 'account']);
  });

  it('finds none in a rule of literals', () => {
    expect(paths('1 + 2 == 3')).toEqual([]);
  });
});

describe('nullPaths', () => {
  const vars = { DICT: { sites: ['WAW'], empty: null }, USER: {}, TWIN: null, now: 5 };
  const nulls = (text: string) => nullPaths(rulePaths(parseRule(text)), vars).map((p) => p.text);

  it('lists a missing attribute, a null value, a null variable and whatever is read through it', () => {
    expect(nulls('DICT.site == 1 or DICT.empty or TWIN.kind or USER.team or now')).toEqual([
      'DICT.site',
      'DICT.empty',
      'TWIN.kind',
      'USER.team',
    ]);
  });

  it('does not call a value that is there, nor a read the rule could not make, missing', () => {
    expect(nulls('DICT.sites[0] or DICT.sites[3] or DICT.sites.x or now.x')).toEqual([]);
    expect(valueAt(rulePaths(parseRule('DICT.sites[1]'))[0], vars)).toBe(undefined);
  });
});
