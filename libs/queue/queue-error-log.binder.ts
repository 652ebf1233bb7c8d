import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Queue } from 'bullmq';
import { throttledErrorLog } from './error-log.js';

/**
 * A BullMQ queue without an 'error' listener prints every Redis connection error raw (a multi-line stack, each
 * reconnect attempt) through console.error. Every queue of the context gets the throttled one-line log instead.
 */
@Injectable()
export class QueueErrorLogBinder implements OnModuleInit {
  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const queue: unknown = wrapper.instance;
      if (queue instanceof Queue && queue.listenerCount('error') === 0) {
        queue.on('error', throttledErrorLog(`${queue.name} queue`));
      }
    }
  }
}
