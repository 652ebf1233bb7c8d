import { catalogueCoverageProblems, type DeclaredProcessor } from './catalogue-coverage.js';
import { JOBS } from './job-catalogue.js';

const catalogue = {
  scan: { queue: 'sync' },
  twin: { queue: 'sync-twins' },
  merge: { queue: 'imports' },
};

const serving = (
  processor: string,
  job: string | undefined,
  queue: string | undefined,
): DeclaredProcessor => ({
  processor,
  job,
  queue,
});

const complete = [
  serving('ScanProcessor', 'scan', 'sync'),
  serving('TwinProcessor', 'twin', 'sync-twins'),
  serving('MergeProcessor', 'merge', 'imports'),
];

describe('catalogue coverage: the worker processors against the job catalogue', () => {
  it('finds nothing wrong when every job has one processor on its queue', () => {
    expect(catalogueCoverageProblems(catalogue, complete)).toEqual([]);
  });

  it('names a job of the catalogue that no processor serves, with its queue', () => {
    expect(catalogueCoverageProblems(catalogue, complete.slice(0, 2))).toEqual([
      "job 'merge' (queue 'imports') has no processor",
    ]);
  });

  it('names every job without a processor, not only the first', () => {
    expect(catalogueCoverageProblems(catalogue, [])).toEqual([
      "job 'scan' (queue 'sync') has no processor",
      "job 'twin' (queue 'sync-twins') has no processor",
      "job 'merge' (queue 'imports') has no processor",
    ]);
  });

  it('names a processor of a job the catalogue does not have', () => {
    expect(
      catalogueCoverageProblems(catalogue, [...complete, serving('ExportProcessor', 'export', 'exports')]),
    ).toEqual(["processor ExportProcessor serves job 'export', which the catalogue does not have"]);
  });

  it('names a processor that listens on another queue than the catalogue gives its job', () => {
    expect(
      catalogueCoverageProblems(catalogue, [
        complete[0],
        complete[1],
        serving('MergeProcessor', 'merge', 'sync-twins'),
      ]),
    ).toEqual([
      "processor MergeProcessor serves job 'merge' on queue 'sync-twins', but the catalogue puts it on 'imports'",
      "queue 'sync-twins' has 2 processors (TwinProcessor, MergeProcessor) of different jobs",
    ]);
  });

  it('names a processor that says no job (a bare @Processor) and one that carries no queue', () => {
    expect(
      catalogueCoverageProblems(catalogue, [...complete, serving('BareProcessor', undefined, 'imports')]),
    ).toEqual([
      "processor BareProcessor (queue 'imports') names no job of the catalogue",
      "queue 'imports' has 2 processors (MergeProcessor, BareProcessor) of different jobs",
    ]);
    expect(
      catalogueCoverageProblems(catalogue, [
        complete[0],
        complete[1],
        serving('MergeProcessor', 'merge', undefined),
      ]),
    ).toEqual([
      "processor MergeProcessor serves job 'merge' on queue '?', but the catalogue puts it on 'imports'",
    ]);
  });

  it('names a job served by two processors', () => {
    expect(
      catalogueCoverageProblems(catalogue, [...complete, serving('TwinProcessor2', 'twin', 'sync-twins')]),
    ).toEqual(["job 'twin' has 2 processors (TwinProcessor, TwinProcessor2); it needs exactly one"]);
  });

  it('does not mistake an inherited name of a plain object for a job of the catalogue', () => {
    expect(
      catalogueCoverageProblems(catalogue, [...complete, serving('OddProcessor', 'toString', 'odd')]),
    ).toEqual(["processor OddProcessor serves job 'toString', which the catalogue does not have"]);
  });

  it('accepts the real catalogue as its input', () => {
    const real = Object.entries(JOBS).map(([job, { queue }]) => serving(`${job} processor`, job, queue));
    expect(catalogueCoverageProblems(JOBS, real)).toEqual([]);
  });
});
