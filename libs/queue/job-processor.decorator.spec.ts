import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Reflector } from '@nestjs/core';
import { declaredJob, JobProcessor } from './job-processor.decorator.js';
import { WORKER_LOCKS } from './worker-locks.js';

@JobProcessor('sync-twin', { concurrency: 3 })
class TwinProcessor extends WorkerHost {
  process(): Promise<void> {
    return Promise.resolve();
  }
}

@Processor('imports')
class BareProcessor extends WorkerHost {
  process(): Promise<void> {
    return Promise.resolve();
  }
}

class NotAProcessor {}

describe('@JobProcessor', () => {
  it("declares the job and listens on the catalogue's queue for it", () => {
    expect(declaredJob(TwinProcessor)).toEqual({ queue: 'sync-twins', job: 'sync-twin' });
  });

  it('gives every processor the shared job locks, its own options on top', () => {
    // @nestjs/bullmq's record of the worker options (read by its explorer when it creates the worker).
    const options = new Reflector().get<Record<string, unknown>>('bullmq:worker_metadata', TwinProcessor);
    expect(options).toEqual({ ...WORKER_LOCKS, concurrency: 3 });
  });

  it('reads a bare @Processor as a queue without a job, and a plain class as neither', () => {
    expect(declaredJob(BareProcessor)).toEqual({ queue: 'imports', job: undefined });
    expect(declaredJob(NotAProcessor)).toEqual({ queue: undefined, job: undefined });
  });
});
