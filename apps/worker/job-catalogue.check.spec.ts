import type { BullRegistrar } from '@nestjs/bullmq';
import type { DiscoveryService } from '@nestjs/core';
import { ImportMergeProcessor } from './imports/import-merge.processor.js';
import { JobCatalogueCheck } from './job-catalogue.check.js';
import { SourceScanProcessor } from './sync/source-scan.processor.js';
import { TwinSyncProcessor } from './sync/twin-sync.processor.js';

/** A check over these provider classes (instances made without their constructors: only the class is read). */
function checkOver(classes: Array<abstract new (...args: never[]) => unknown>) {
  const providers = classes.map((c) => ({ instance: Object.create(c.prototype) as unknown }));
  const registered = { times: 0 };
  const check = new JobCatalogueCheck(
    { getProviders: () => providers } as unknown as DiscoveryService,
    { register: () => registered.times++ } as unknown as BullRegistrar,
  );
  return { check, registered };
}

describe("the worker's job catalogue check", () => {
  it("finds the worker's three processors serving the whole catalogue, then starts the workers", () => {
    const { check, registered } = checkOver([SourceScanProcessor, TwinSyncProcessor, ImportMergeProcessor]);
    check.onModuleInit();
    expect(registered.times).toBe(1);
  });

  it('refuses to start (one error naming the job) when a job of the catalogue has no processor', () => {
    const { check, registered } = checkOver([SourceScanProcessor, TwinSyncProcessor]);
    expect(() => check.onModuleInit()).toThrow(
      "job catalogue and processors disagree: job 'import-merge' (queue 'imports') has no processor",
    );
    expect(registered.times).toBe(0);
  });

  it('refuses to start when a job has two processors', () => {
    class SecondMergeProcessor extends ImportMergeProcessor {}
    const { check, registered } = checkOver([
      SourceScanProcessor,
      TwinSyncProcessor,
      ImportMergeProcessor,
      SecondMergeProcessor,
    ]);
    expect(() => check.onModuleInit()).toThrow(
      "job 'import-merge' has 2 processors (ImportMergeProcessor, SecondMergeProcessor)",
    );
    expect(registered.times).toBe(0);
  });
});
