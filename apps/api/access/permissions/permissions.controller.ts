import { applyDecorators, Body, Controller, Delete, Get, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../../http/openapi-body.js';
import { assignmentIdPath, permissionIdPath } from '../../http/path-id.js';
import { principalOf } from '../../http/caller.js';
import {
  archivePermissionSchema,
  assignPermissionSchema,
  createPermissionSchema,
  pageQuerySchema,
  updatePermissionSchema,
} from './permission-body.js';
import {
  type AssignmentView,
  assignmentView,
  type PageView,
  pageView,
  type PermissionView,
  permissionView,
} from './permission-view.js';
import { PermissionsService } from '../../../../libs/access/permissions/permissions.service.js';

/** The DFNS paging parameters of the two list endpoints. */
const PageParams = () =>
  applyDecorators(
    ApiQuery({ name: 'limit', required: false, description: '1–100, default 20' }),
    ApiQuery({ name: 'paginationToken', required: false, description: 'nextPageToken of the previous page' }),
  );

@ApiTags('permissions')
@ApiSecurity('secret')
@Controller('permissions')
export class PermissionsController {
  constructor(private readonly permissions: PermissionsService) {}

  @Post()
  @RequiresAction('create_permission')
  @ApiOperation({ operationId: 'create_permission', summary: 'Create a named, assignable set of operations' })
  @ApiZodBody(createPermissionSchema)
  create(@Req() req: FastifyRequest, @Body() body: unknown): Promise<PermissionView> {
    return this.permissions
      .create(principalOf(req).account, principalOf(req).allowed, parseInput(createPermissionSchema, body))
      .then(permissionView);
  }

  @Get()
  @RequiresAction('get_permissions')
  @ApiOperation({
    operationId: 'get_permissions',
    summary: "The account's permissions, archived ones included",
  })
  @PageParams()
  list(@Req() req: FastifyRequest, @Query() query: unknown): Promise<PageView<PermissionView>> {
    return this.permissions
      .list(principalOf(req).account, parseInput(pageQuerySchema, query, 'invalid_parameter'))
      .then(pageView(permissionView));
  }

  @Get(':id')
  @RequiresAction('get_permission')
  @ApiOperation({ operationId: 'get_permission', summary: 'One permission' })
  get(@Req() req: FastifyRequest, @Param('id') id: string): Promise<PermissionView> {
    return this.permissions.get(principalOf(req).account, permissionIdPath(id)).then(permissionView);
  }

  @Put(':id')
  @RequiresAction('update_permission')
  @ApiOperation({
    operationId: 'update_permission',
    summary: 'Rename or change operations; not when archived or immutable',
  })
  @ApiZodBody(updatePermissionSchema)
  update(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<PermissionView> {
    const permission = permissionIdPath(id);
    return this.permissions
      .update(
        principalOf(req).account,
        principalOf(req).allowed,
        permission,
        parseInput(updatePermissionSchema, body),
      )
      .then(permissionView);
  }

  @Put(':id/archive')
  @RequiresAction('archive_permission')
  @ApiOperation({
    operationId: 'archive_permission',
    summary: 'Soft-delete: stops granting at once, stays readable',
  })
  @ApiZodBody(archivePermissionSchema)
  archive(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<PermissionView> {
    const permission = permissionIdPath(id);
    parseInput(archivePermissionSchema, body);
    return this.permissions.archive(principalOf(req).account, permission).then(permissionView);
  }

  @Post(':id/assignments')
  @RequiresAction('assign_permission')
  @ApiOperation({
    operationId: 'assign_permission',
    summary: 'Grant the permission to a user of the account',
  })
  @ApiZodBody(assignPermissionSchema)
  assign(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<AssignmentView> {
    const permission = permissionIdPath(id);
    const input = parseInput(assignPermissionSchema, body);
    return this.permissions
      .assign(principalOf(req).account, principalOf(req).allowed, permission, input.identityId)
      .then(assignmentView);
  }

  @Get(':id/assignments')
  @RequiresAction('get_permission_assignments')
  @ApiOperation({ operationId: 'get_permission_assignments', summary: "The permission's assignments" })
  @PageParams()
  listAssignments(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<PageView<AssignmentView>> {
    const permission = permissionIdPath(id);
    const page = parseInput(pageQuerySchema, query, 'invalid_parameter');
    return this.permissions
      .listAssignments(principalOf(req).account, permission, page)
      .then(pageView(assignmentView));
  }

  @Delete(':id/assignments/:assignment')
  @RequiresAction('revoke_permission')
  @ApiOperation({
    operationId: 'revoke_permission',
    summary: 'Revoke an assignment at once; answers the revoked one',
  })
  revoke(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Param('assignment') assignment: string,
  ): Promise<AssignmentView> {
    const permission = permissionIdPath(id);
    return this.permissions
      .revoke(principalOf(req).account, permission, assignmentIdPath(assignment))
      .then(assignmentView);
  }
}
