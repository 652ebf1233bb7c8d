import fc from 'fast-check';
import { turn } from './fair-ledger.js';

/**
 * The turn rule of the fair-share ledger (docs/sync.md "Fair shares") against a plain model of BullMQ's prioritised
 * queue: jobs are served lowest priority first, equal priorities in the order added. The ledger is modelled exactly
 * (a count per account), as it is between crashes.
 */
interface QueuedJob {
  account: number;
  priority: number;
  seq: number;
}

class Model {
  readonly pending = new Map<number, number>();
  private queued: QueuedJob[] = [];
  private seq = 0;

  /** What a producer does: reserve n places, add n jobs with turns first+1..first+n. */
  add(account: number, n: number): QueuedJob[] {
    const first = this.pending.get(account) ?? 0;
    this.pending.set(account, first + n);
    const jobs = Array.from({ length: n }, (_, i) => ({
      account,
      priority: turn(first, i),
      seq: this.seq++,
    }));
    this.queued.push(...jobs);
    return jobs;
  }

  /** What BullMQ and a worker do: take the lowest (priority, seq), run it, give its place back. */
  serve(): QueuedJob | undefined {
    if (this.queued.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.queued.length; i++) {
      const [a, b] = [this.queued[i], this.queued[best]];
      if (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)) best = i;
    }
    const [job] = this.queued.splice(best, 1);
    this.pending.set(job.account, (this.pending.get(job.account) ?? 1) - 1);
    return job;
  }

  busyAccounts(except: number): number {
    return [...this.pending].filter(([a, n]) => a !== except && n > 0).length;
  }
}

const step = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    account: fc.integer({ min: 0, max: 4 }),
    n: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({ kind: fc.constant('serve' as const), times: fc.integer({ min: 1, max: 30 }) }),
);

describe('fair turns', () => {
  it('serves an idle account’s one job after at most one job of each account busy when it was added', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 5, max: 9 }), (steps, quiet) => {
        const model = new Model();
        for (const s of steps) {
          if (s.kind === 'add') model.add(s.account, s.n);
          else for (let i = 0; i < s.times; i++) model.serve();
        }
        const busy = model.busyAccounts(quiet);
        const [mine] = model.add(quiet, 1);
        let before = 0;
        for (let job = model.serve(); job !== undefined && job !== mine; job = model.serve()) before++;
        expect(before).toBeLessThanOrEqual(busy);
      }),
    );
  });

  it('takes backlogs queued together in rounds: in any prefix served, no account is two jobs ahead of another with jobs left', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 2, maxLength: 5 }), (sizes) => {
        const model = new Model();
        // Added in interleaved chunks, as concurrent producers would.
        const left = [...sizes];
        while (left.some((n) => n > 0)) {
          left.forEach((n, account) => {
            const k = Math.min(n, 7);
            if (k > 0) model.add(account, k);
            left[account] -= k;
          });
        }
        const served = sizes.map(() => 0);
        for (let job = model.serve(); job !== undefined; job = model.serve()) {
          served[job.account]++;
          for (let a = 0; a < sizes.length; a++) {
            if (served[a] < sizes[a]) expect(served[job.account]).toBeLessThanOrEqual(served[a] + 1);
          }
        }
        expect(served).toEqual(sizes);
      }),
    );
  });
});
