import { applyDecorators, SetMetadata, type Type } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import { Reflector } from '@nestjs/core';
import { JOBS, type JobName } from './job-catalogue.js';
import { WORKER_LOCKS } from './worker-locks.js';

/** The worker options `@Processor` takes (the package does not export their type; its last overload shows it). */
type WorkerOptions = Parameters<typeof Processor>[1];

/** Where `@JobProcessor` records the job a processor class serves. */
const SERVED_JOB = 'twindex:served-job';

/**
 * `@nestjs/bullmq`'s own record of a `@Processor` class's queue (`{ name }`). Not exported by the package; should
 * an upgrade rename it, every processor reads as queue-less and the worker refuses to start (and this file's spec
 * fails), rather than the check passing blind.
 */
const BULLMQ_PROCESSOR = 'bullmq:processor_metadata';

/**
 * A BullMQ processor of one job of the catalogue: it listens on the queue the catalogue gives that job, with the
 * job locks every processor shares (worker-locks.ts), and says which job it serves, so the worker can check at
 * start that every job has its processor (catalogue-coverage.ts).
 */
export function JobProcessor(job: JobName, options: WorkerOptions = {}): ClassDecorator {
  return applyDecorators(
    SetMetadata(SERVED_JOB, job),
    Processor(JOBS[job].queue, { ...WORKER_LOCKS, ...options }),
  );
}

const reflector = new Reflector();

/** What a class declares: the queue of its `@Processor` and the job named by `@JobProcessor`, either may be absent. */
export function declaredJob(target: Type): {
  queue: string | undefined;
  job: string | undefined;
} {
  const processor = reflector.get<{ name?: unknown } | undefined>(BULLMQ_PROCESSOR, target);
  const job = reflector.get<unknown>(SERVED_JOB, target);
  return {
    queue: typeof processor?.name === 'string' ? processor.name : undefined,
    job: typeof job === 'string' ? job : undefined,
  };
}
