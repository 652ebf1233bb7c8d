import { scheduleProblem } from './schedule.js';

describe('scheduleProblem', () => {
  it.each(['*/10 * * * *', '0 3 * * MON-FRI', '*/2 * * * * *', '0 0 1,15 JAN,JUL ?', '5-55/5 * * * *'])(
    'accepts %s',
    (pattern) => expect(scheduleProblem(pattern)).toBeNull(),
  );

  it.each([
    '',
    '* * * *',
    '61 * * * *',
    '* 24 * * *',
    '*/0 * * * *',
    '5-1 * * * *',
    'every minute',
    '* * * * * * *',
  ])('refuses %j', (pattern) => expect(scheduleProblem(pattern)).not.toBeNull());
});
