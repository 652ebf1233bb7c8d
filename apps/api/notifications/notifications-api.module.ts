import { Module } from '@nestjs/common';
import { GrantsRepository } from '../../../libs/notifications/grants.repository.js';
import { SubscriptionsRepository } from '../../../libs/notifications/subscriptions.repository.js';
import { TopicsRepository } from '../../../libs/notifications/topics.repository.js';
import { SubscriptionsService } from './subscriptions.service.js';
import { TopicsController } from './topics.controller.js';
import { TopicsService } from './topics.service.js';
import { WebhooksController } from './webhooks.controller.js';

/** Topics, subscriptions and grants (docs/notifications.md). Delivery is the worker's. */
@Module({
  controllers: [TopicsController, WebhooksController],
  providers: [
    TopicsRepository,
    GrantsRepository,
    SubscriptionsRepository,
    TopicsService,
    SubscriptionsService,
  ],
})
export class NotificationsApiModule {}
