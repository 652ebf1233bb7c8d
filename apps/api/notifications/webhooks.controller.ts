import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AbuseLimiter } from '../../../libs/admission/abuse-limiter.js';
import { TwindexError } from '../../../libs/domain/errors.js';
import { normalizeUuid } from '../../../libs/domain/identity/uuid.js';
import { Public, RequiresAction } from '../http/action.decorator.js';
import { accountOf } from '../http/caller.js';
import { ApiZodBody } from '../http/openapi-body.js';
import { uuidPath } from '../http/path-id.js';
import { parseInput } from '../http/validate.js';
import { accessBodySchema, refreshBodySchema, subscribeBodySchema } from './notification-bodies.js';
import { SubscriptionsService } from './subscriptions.service.js';

@ApiTags('notifications')
@Controller('notifications/webhooks')
export class WebhooksController {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly limiter: AbuseLimiter,
  ) {}

  @Post()
  @HttpCode(201)
  @RequiresAction('webhook_subscribe')
  @ApiOperation({
    operationId: 'webhook_subscribe',
    summary:
      "Subscribe a callback to a topic (own, or another account's granted one); confirmation comes first",
  })
  @ApiZodBody(subscribeBodySchema)
  subscribe(@Req() req: FastifyRequest, @Body() body: unknown) {
    return this.subscriptions.subscribe(accountOf(req), parseInput(subscribeBodySchema, body));
  }

  @Get()
  @RequiresAction('get_webhook_subscriptions')
  @ApiOperation({
    operationId: 'get_webhook_subscriptions',
    summary: "The account's subscriptions with status and failures (never a token or secret)",
  })
  list(@Req() req: FastifyRequest) {
    return this.subscriptions.list(accountOf(req));
  }

  @Get('access')
  @RequiresAction('get_notifications_access')
  @ApiOperation({
    operationId: 'get_notifications_access',
    summary: "Which other accounts may subscribe to which of this account's topics",
  })
  access(@Req() req: FastifyRequest) {
    return this.subscriptions.access(accountOf(req));
  }

  @Patch('access/accounts/:account')
  @RequiresAction('update_notifications_account_access')
  @ApiOperation({
    operationId: 'update_notifications_account_access',
    summary: 'Grant another account topics to subscribe to (`[]` removes the grant)',
  })
  @ApiZodBody(accessBodySchema)
  updateAccess(@Req() req: FastifyRequest, @Param('account') account: string, @Body() body: unknown) {
    const grantee = uuidPath(account, 'Account');
    const input = parseInput(accessBodySchema, body);
    return this.subscriptions.updateAccess(accountOf(req), grantee, input.topics ?? input.publish ?? []);
  }

  @Get(':account')
  @Public()
  @ApiOperation({
    operationId: 'webhook_confirm_subscription',
    summary: 'Confirm a subscription (the token is the credential); deliveries start',
  })
  confirm(@Req() req: FastifyRequest, @Param('account') account: string, @Query('token') token?: string) {
    return this.throttled(req, account, () => this.subscriptions.confirm(account, token));
  }

  @Patch(':account')
  @Public()
  @ApiOperation({
    operationId: 'webhook_refresh_subscription',
    summary: 'Extend a subscription; resumes a suspended one, re-sends the confirmation of a pending one',
  })
  @ApiZodBody(refreshBodySchema, undefined, false)
  refresh(
    @Req() req: FastifyRequest,
    @Param('account') account: string,
    @Body() body: unknown,
    @Query('token') token?: string,
  ) {
    return this.throttled(req, account, () =>
      this.subscriptions.refresh(account, token, parseInput(refreshBodySchema, body ?? {})),
    );
  }

  @Delete(':account')
  @Public()
  @ApiOperation({
    operationId: 'webhook_unsubscribe',
    summary: 'End a subscription (the token is the credential)',
  })
  unsubscribe(@Req() req: FastifyRequest, @Param('account') account: string, @Query('token') token?: string) {
    return this.throttled(req, account, () => this.subscriptions.unsubscribe(account, token));
  }

  /**
   * The token routes are public, so a wrong token is a failed authentication, throttled like a PIN exchange: counted
   * against the address and the account the path names (429 with Retry-After once spent), and a caller over budget
   * is refused before the token is looked at.
   */
  private async throttled<T>(req: FastifyRequest, rawAccount: string, work: () => Promise<T>): Promise<T> {
    const account = normalizeUuid(rawAccount) ?? undefined;
    await this.limiter.assertNotBlocked(req.ip, account);
    try {
      return await work();
    } catch (err) {
      if (err instanceof TwindexError && err.kind === 'not_found')
        await this.limiter.recordFailure(req.ip, account);
      throw err;
    }
  }
}
