import { RE2JS } from 're2js';
import { compilePattern } from '../libs/domain/rules/rule-regex.js';
import { median, printTable } from './support/stats.js';

/**
 * `npm run bench regex`: the rule language's own regex engine against RE2 (re2js, pure JS) on the patterns rules
 * are written with, over identity-sized inputs; both compiled once (as the rule cache does), then matched. The
 * engines run interleaved round by round in one process, so the ratio holds on a busy machine.
 */
const CASES: Array<{ name: string; pattern: string; inputs: string[]; op: 'full' | 'search' }> = [
  { name: 'prefix + digits', pattern: 'WAW-[0-9]+', inputs: ['WAW-12', 'WAW-1234567', 'KRK-12'], op: 'full' },
  {
    name: 'RFID uuid',
    pattern: 'RFID#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
    inputs: ['RFID#be144bdc-0f6d-4a00-4091-1a6d793cbbbb', 'RFID#be144bdc-0f6d-4a00-4091-1a6d793cbbbz'],
    op: 'full',
  },
  {
    name: 'case-insensitive',
    pattern: '(?i)gate-(north|south)-\\d+',
    inputs: ['GATE-North-7', 'gate-east-1'],
    op: 'full',
  },
  {
    name: 'search domain',
    pattern: '@example\\.com$',
    inputs: ['anna@example.com', 'bob@example.org'],
    op: 'search',
  },
  { name: 'search word', pattern: '\\bvip\\b', inputs: ['customer vip gold', 'viper'], op: 'search' },
  { name: 'pathological', pattern: '(a+)+$', inputs: [`${'a'.repeat(2000)}!`], op: 'full' },
];

const ROUNDS = 5;
const MIN_MS = 200;

function opsPerSecond(run: () => void): number {
  let n = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_MS) {
    for (let i = 0; i < 100; i++) run();
    n += 100;
    elapsed = performance.now() - started;
  }
  return (n / elapsed) * 1000;
}

export function regexBench(): void {
  const rows: Array<Record<string, string | number>> = [];
  for (const c of CASES) {
    const ours = compilePattern(c.pattern);
    const re2 = RE2JS.compile(c.pattern);
    const budget = { regexSteps: Number.MAX_SAFE_INTEGER };
    const runOurs =
      c.op === 'full'
        ? () => c.inputs.forEach((s) => ours.fullMatch(s, budget))
        : () => c.inputs.forEach((s) => ours.search(s, budget));
    const runRe2 =
      c.op === 'full'
        ? () => c.inputs.forEach((s) => re2.testExact(s))
        : () => c.inputs.forEach((s) => re2.test(s));
    const oursRates: number[] = [];
    const re2Rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      oursRates.push(opsPerSecond(runOurs));
      re2Rates.push(opsPerSecond(runRe2));
    }
    const compileOurs = opsPerSecond(() => compilePattern(c.pattern));
    const compileRe2 = opsPerSecond(() => RE2JS.compile(c.pattern));
    rows.push({
      case: `${c.name} (${c.op})`,
      'own matches/s': Math.round(median(oursRates) * c.inputs.length),
      're2js matches/s': Math.round(median(re2Rates) * c.inputs.length),
      'own / re2js': Number((median(oursRates) / median(re2Rates)).toFixed(2)),
      'compile own / re2js': Number((compileOurs / compileRe2).toFixed(2)),
    });
  }
  printTable(
    'regex: own engine vs RE2 (re2js), same process, interleaved — ratio > 1 means ours is faster',
    rows,
  );
}
