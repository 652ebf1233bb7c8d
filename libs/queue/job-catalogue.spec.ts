import { UnrecoverableError } from 'bullmq';
import { JOBS, type JobName, QUEUES, readPayload } from './job-catalogue.js';

describe('the job catalogue', () => {
  it('puts every job on a known queue, and every queue carries at least one job', () => {
    const queues = Object.values(QUEUES) as string[];
    for (const name of Object.keys(JOBS) as JobName[]) expect(queues).toContain(JOBS[name].queue);
    const used = new Set(Object.values(JOBS).map((j) => j.queue));
    expect([...used].sort()).toEqual([...queues].sort());
  });

  it('keeps sync-source scans and sync-twin reconciles on separate queues', () => {
    expect(JOBS['sync-source'].queue).not.toBe(JOBS['sync-twin'].queue);
  });

  it('reads a well-formed payload as it was sent', () => {
    const data = { sourceId: 's1', account: 'a1', runId: null, mode: 'full', cursor: 'c', pages: 3 };
    expect(readPayload('sync-source', { name: 'sync-source', data })).toEqual(data);
    expect(
      readPayload('sync-twin', { name: 'sync-twin', data: { sourceId: 's1', account: 'a1', twin: 't1' } }),
    ).toEqual({ sourceId: 's1', account: 'a1', twin: 't1' });
    expect(readPayload('import-merge', { name: 'import-merge', data: { importId: 'i1' } })).toEqual({
      importId: 'i1',
    });
  });

  it('drops what the catalogue does not name (an old sync-twin runId is ignored, not carried on)', () => {
    const read = readPayload('sync-twin', {
      name: 'sync-twin',
      data: { sourceId: 's1', account: 'a1', runId: 'r1', twin: 't1' },
    });
    expect(read).toEqual({ sourceId: 's1', account: 'a1', twin: 't1' });
  });

  it.each([
    [
      'a missing field',
      'sync-twin',
      { sourceId: 's1', account: 'a1' },
      /malformed sync-twin payload \(twin: /,
    ],
    [
      'a missing account',
      'sync-twin',
      { sourceId: 's1', twin: 't1' },
      /malformed sync-twin payload \(account: /,
    ],
    ['a wrong type', 'import-merge', { importId: 42 }, /malformed import-merge payload \(importId: /],
    [
      'an unknown mode',
      'sync-source',
      { sourceId: 's', account: 'a', runId: null, mode: 'sometimes' },
      /mode: /,
    ],
    ['no data at all', 'sync-twin', undefined, /malformed sync-twin payload \(payload: /],
  ] as const)('fails a job with %s for good, naming the field', (_what, name: JobName, data, reason) => {
    let thrown: unknown;
    try {
      readPayload(name, { name, data });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect((thrown as Error).message).toMatch(reason);
  });

  it('fails a job whose name has no processor on that queue', () => {
    expect(() => readPayload('sync-twin', { name: 'sync-source', data: {} })).toThrow(
      /job 'sync-source' has no processor on queue 'sync-twins'/,
    );
  });
});
