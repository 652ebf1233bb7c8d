import { Body, Controller, Delete, Get, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../../http/openapi-body.js';
import { uuidPath } from '../../http/path-id.js';
import { principalOf } from '../../http/caller.js';
import { createRoleSchema, updateRoleSchema } from './role-body.js';
import { byUuid } from '../by-uuid.js';
import { roleView, type RoleView } from './role-view.js';
import { RolesService } from '../../../../libs/access/roles/roles.service.js';

@ApiTags('roles')
@ApiSecurity('secret')
@Controller('roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Post()
  @RequiresAction('create_user_role')
  @ApiOperation({
    operationId: 'create_user_role',
    summary: 'Create a role (no statement: every action allowed)',
  })
  @ApiZodBody(createRoleSchema)
  async create(@Req() req: FastifyRequest, @Body() body: unknown): Promise<RoleView> {
    const input = parseInput(createRoleSchema, body);
    return roleView(await this.roles.create(principalOf(req).account, principalOf(req).allowed, input));
  }

  @Get()
  @RequiresAction('get_user_roles')
  @ApiOperation({ operationId: 'get_user_roles', summary: "The account's roles, built-ins first" })
  async list(@Req() req: FastifyRequest): Promise<{ roles: Record<string, RoleView> }> {
    return { roles: byUuid((await this.roles.list(principalOf(req).account)).map(roleView)) };
  }

  @Get(':role')
  @RequiresAction('get_user_role')
  @ApiOperation({ operationId: 'get_user_role', summary: 'One role' })
  async get(@Req() req: FastifyRequest, @Param('role') role: string): Promise<RoleView> {
    return roleView(await this.roles.get(principalOf(req).account, uuidPath(role, 'Role')));
  }

  @Patch(':role')
  @RequiresAction('update_user_role')
  @ApiOperation({
    operationId: 'update_user_role',
    summary: 'Change a role; attributes given replace, others stay',
  })
  @ApiZodBody(updateRoleSchema)
  async update(
    @Req() req: FastifyRequest,
    @Param('role') role: string,
    @Body() body: unknown,
  ): Promise<RoleView> {
    const uuid = uuidPath(role, 'Role');
    const input = parseInput(updateRoleSchema, body);
    return roleView(await this.roles.update(principalOf(req).account, principalOf(req).allowed, uuid, input));
  }

  @Delete(':role')
  @RequiresAction('delete_user_role')
  @ApiOperation({
    operationId: 'delete_user_role',
    summary: 'Delete a role no user holds; answers the deleted role',
  })
  async delete(@Req() req: FastifyRequest, @Param('role') role: string): Promise<RoleView> {
    return roleView(await this.roles.delete(principalOf(req).account, uuidPath(role, 'Role')));
  }
}
