import { Body, Controller, Delete, Get, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../../http/openapi-body.js';
import { uuidPath } from '../../http/path-id.js';
import { principalOf } from '../../http/caller.js';
import { createUserSchema, updateUserSchema } from './user-body.js';
import { byUuid } from '../by-uuid.js';
import { userView, type UserView } from './user-view.js';
import { UsersService } from '../../../../libs/access/users/users.service.js';

@ApiTags('users')
@ApiSecurity('secret')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @RequiresAction('create_user')
  @ApiOperation({ operationId: 'create_user', summary: "Create a user holding one of the account's roles" })
  @ApiZodBody(createUserSchema)
  async create(@Req() req: FastifyRequest, @Body() body: unknown): Promise<UserView> {
    const input = parseInput(createUserSchema, body);
    return userView(await this.users.create(principalOf(req).account, principalOf(req).allowed, input));
  }

  @Get()
  @RequiresAction('get_users')
  @ApiOperation({ operationId: 'get_users', summary: "The account's users, oldest first" })
  async list(@Req() req: FastifyRequest): Promise<{ users: Record<string, UserView> }> {
    return { users: byUuid((await this.users.list(principalOf(req).account)).map(userView)) };
  }

  @Get(':user')
  @RequiresAction('get_user')
  @ApiOperation({ operationId: 'get_user', summary: 'One user' })
  async get(@Req() req: FastifyRequest, @Param('user') user: string): Promise<UserView> {
    return userView(await this.users.get(principalOf(req).account, uuidPath(user, 'User')));
  }

  @Patch(':user')
  @RequiresAction('update_user')
  @ApiOperation({
    operationId: 'update_user',
    summary: 'Change a user; disabling takes effect on the next request',
  })
  @ApiZodBody(updateUserSchema)
  async update(
    @Req() req: FastifyRequest,
    @Param('user') user: string,
    @Body() body: unknown,
  ): Promise<UserView> {
    const uuid = uuidPath(user, 'User');
    const input = parseInput(updateUserSchema, body);
    return userView(await this.users.update(principalOf(req).account, principalOf(req).allowed, uuid, input));
  }

  @Delete(':user')
  @RequiresAction('delete_user')
  @ApiOperation({ operationId: 'delete_user', summary: 'Delete a user with its secrets and assignments' })
  async delete(@Req() req: FastifyRequest, @Param('user') user: string): Promise<UserView> {
    return userView(await this.users.delete(principalOf(req).account, uuidPath(user, 'User')));
  }
}
