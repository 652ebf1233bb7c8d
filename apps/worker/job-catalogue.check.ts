import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { BullRegistrar, WorkerHost } from '@nestjs/bullmq';
import { DiscoveryService } from '@nestjs/core';
import { catalogueCoverageProblems, type DeclaredProcessor } from '../../libs/queue/catalogue-coverage.js';
import { JOBS } from '../../libs/queue/job-catalogue.js';
import { declaredJob } from '../../libs/queue/job-processor.decorator.js';

/**
 * The worker refuses to start when its processors and the job catalogue disagree (a job nobody processes, a
 * processor of a job the catalogue lacks or on another queue): start-up fails with one line naming them. The
 * processors' BullMQ workers are started here, once the check passed (WorkerModule registers them manually), so no
 * job is taken by a worker the check would refuse; module init runs before any bootstrap hook, so processors and
 * the metrics binder still find their workers in `onApplicationBootstrap`.
 */
@Injectable()
export class JobCatalogueCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly registrar: BullRegistrar,
  ) {}

  onModuleInit(): void {
    const problems = catalogueCoverageProblems(JOBS, this.processors());
    if (problems.length) throw new Error(`job catalogue and processors disagree: ${problems.join('; ')}`);
    this.registrar.register();
  }

  private processors(): DeclaredProcessor[] {
    return this.discovery
      .getProviders()
      .map((wrapper): unknown => wrapper.instance)
      .filter((instance): instance is WorkerHost => instance instanceof WorkerHost)
      .map((host) => {
        const type = host.constructor as Type;
        return { processor: type.name, ...declaredJob(type) };
      });
  }
}
