import type { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { QUEUES } from '../../../libs/queue/job-catalogue.js';

/**
 * The BullMQ Queue instances this API process already holds (registered by the modules that produce to them, e.g.
 * the sync queues of SyncApiModule), looked up app-wide so metrics and the dashboard open no connection of their own.
 * A queue of `QUEUES` that no module registers in the API is simply absent.
 */
export function knownQueues(moduleRef: ModuleRef): Queue[] {
  const found: Queue[] = [];
  for (const name of Object.values(QUEUES)) {
    try {
      found.push(moduleRef.get<Queue>(getQueueToken(name), { strict: false }));
    } catch {
      // Not registered in this process.
    }
  }
  return found;
}
