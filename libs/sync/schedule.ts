/**
 * Cron patterns as BullMQ's job schedulers read them: 5 fields (minute hour day-of-month month day-of-week) or 6
 * (seconds first). Each field is a comma list of `*`, `?`, a value, a range `a-b`, optionally `/step`; months and
 * weekdays may be named (JAN, MON). Returns a description of the first problem, or null when the pattern is fine.
 */
const FIELDS_5 = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;
const FIELDS_6 = ['second', ...FIELDS_5] as const;

const RANGES: Record<string, [number, number]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  'day of month': [1, 31],
  month: [1, 12],
  'day of week': [0, 7],
};
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export function scheduleProblem(pattern: string): string | null {
  if (pattern.length > 200) return 'schedule is longer than 200 characters';
  const parts = pattern.trim().split(/\s+/);
  const names = parts.length === 5 ? FIELDS_5 : parts.length === 6 ? FIELDS_6 : null;
  if (!names) return 'schedule must be a cron pattern of 5 or 6 fields';
  for (let i = 0; i < parts.length; i++) {
    const field = names[i];
    for (const item of parts[i].split(',')) {
      if (!validItem(item, field)) return `schedule: '${parts[i]}' is not a valid ${field} field`;
    }
  }
  return null;
}

function validItem(item: string, field: string): boolean {
  const [range, step, ...rest] = item.split('/');
  if (rest.length) return false;
  if (step !== undefined && !/^[1-9]\d{0,2}$/.test(step)) return false;
  if (range === '*' || (range === '?' && (field === 'day of month' || field === 'day of week'))) return true;
  const bounds = range.split('-');
  if (bounds.length > 2) return false;
  const values = bounds.map((b) => value(b, field));
  if (values.some((v) => v === null)) return false;
  return values.length === 1 || (values[0] as number) <= (values[1] as number);
}

function value(text: string, field: string): number | null {
  const upper = text.toUpperCase();
  if (field === 'month' && MONTHS.includes(upper)) return MONTHS.indexOf(upper) + 1;
  if (field === 'day of week' && DAYS.includes(upper)) return DAYS.indexOf(upper);
  if (!/^\d{1,2}$/.test(text)) return null;
  const n = Number(text);
  const [min, max] = RANGES[field];
  return n >= min && n <= max ? n : null;
}
