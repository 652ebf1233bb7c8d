import { Module } from '@nestjs/common';
import { TopicsRepository } from '../../../libs/notifications/topics.repository.js';
import { WorkerMetricsModule } from '../metrics/index.js';
import { DeliveryLoop } from './delivery-loop.js';
import { DeliveryRepository } from './delivery.repository.js';
import { NotificationSweep } from './notification-sweep.js';
import { OutboxDispatcher } from './outbox-dispatcher.js';
import { OutboxListener } from './outbox-listener.js';

/** Change notifications' delivery (docs/notifications.md): dispatcher, delivery loop, listener, sweep. */
@Module({
  imports: [WorkerMetricsModule],
  providers: [
    TopicsRepository,
    DeliveryRepository,
    OutboxDispatcher,
    DeliveryLoop,
    OutboxListener,
    NotificationSweep,
  ],
  exports: [DeliveryLoop, NotificationSweep],
})
export class NotificationsWorkerModule {}
