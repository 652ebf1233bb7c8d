import { Body, Controller, Delete, Get, Param, Put, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../http/action.decorator.js';
import { accountOf } from '../http/caller.js';
import { ApiZodBody } from '../http/openapi-body.js';
import { parseInput } from '../http/validate.js';
import { topicBodySchema } from './notification-bodies.js';
import { TopicsService, type TopicView } from './topics.service.js';

@ApiTags('notifications')
@Controller('notifications/topics')
export class TopicsController {
  constructor(private readonly topics: TopicsService) {}

  @Get()
  @RequiresAction('get_notification_topics')
  @ApiOperation({ operationId: 'get_notification_topics', summary: "The account's topics by name" })
  list(@Req() req: FastifyRequest): Promise<{ topics: Record<string, TopicView> }> {
    return this.topics.list(accountOf(req));
  }

  @Put(':topic')
  @RequiresAction('update_notification_topic')
  @ApiOperation({
    operationId: 'update_notification_topic',
    summary: 'Create or replace a topic: its triggers and optional rule over the changed identity/twin',
  })
  @ApiZodBody(topicBodySchema)
  put(@Req() req: FastifyRequest, @Param('topic') topic: string, @Body() body: unknown): Promise<TopicView> {
    return this.topics.put(accountOf(req), topic, parseInput(topicBodySchema, body));
  }

  @Delete(':topic')
  @RequiresAction('delete_notification_topic')
  @ApiOperation({
    operationId: 'delete_notification_topic',
    summary: 'Delete a topic; its subscriptions end',
  })
  delete(@Req() req: FastifyRequest, @Param('topic') topic: string): Promise<TopicView> {
    return this.topics.delete(accountOf(req), topic);
  }
}
