import { accountGroup, COUNTED_SCAN_JOB, COUNTED_TWIN_JOB, FAIR_GROUPS, sourceGroup } from './fair-groups.js';
import { QUEUES } from './job-catalogue.js';

describe('FAIR_GROUPS', () => {
  const account = 'a8d1b6de-0000-4000-8000-000000000001';
  const sourceId = 'a8d1b6de-0000-4000-8000-000000000002';

  it('counts a twin job added through the ledger in its account and its source, and no other twin job', () => {
    const groups = FAIR_GROUPS[QUEUES.syncTwins];
    const data = { sourceId, account, twin: 't' };
    expect(groups({ id: `${COUNTED_TWIN_JOB}x`, data })).toEqual([
      accountGroup(account),
      sourceGroup(sourceId),
    ]);
    // A coalescing add (generated id) and a payload without its account are not counted.
    expect(groups({ id: '17', data })).toBeNull();
    expect(groups({ id: `${COUNTED_TWIN_JOB}x`, data: { sourceId, twin: 't' } })).toBeNull();
  });

  it("counts a run's scan in its account, and not a job scheduler's", () => {
    const groups = FAIR_GROUPS[QUEUES.sync];
    const data = { sourceId, account, runId: null, mode: 'full' };
    expect(groups({ id: `${COUNTED_SCAN_JOB}r1`, data })).toEqual([accountGroup(account)]);
    expect(groups({ id: `repeat:sync-source.${sourceId}:1`, data })).toBeNull();
  });

  it('counts an import merge in its account, and not one queued before merges named it', () => {
    const groups = FAIR_GROUPS[QUEUES.imports];
    expect(groups({ id: 'import.i1', data: { importId: 'i1', account } })).toEqual([accountGroup(account)]);
    expect(groups({ id: 'import.i1', data: { importId: 'i1' } })).toBeNull();
    expect(groups({ id: 'import.i1', data: null })).toBeNull();
  });
});
