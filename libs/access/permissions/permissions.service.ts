import { Injectable } from '@nestjs/common';
import { assertMayHandOut, newlyHandedOut } from '../../domain/access/escalation-check.js';
import { duplicateActions, invalidActions } from '../../domain/access/permission-evaluation.js';
import { badRequest, notFound } from '../../domain/errors.js';
import { normalizeUuid } from '../../domain/identity/uuid.js';
import { nowSeconds } from '../../clock/clock.js';
import { assertFreeName } from '../names.js';
import { decodePageToken, encodePageToken, type PagePosition } from '../page-token.js';
import { generateAssignmentId, generatePermissionId } from '../permission-id.js';
import { type AssignmentRow, type PermissionRow, PermissionsRepository } from './permissions.repository.js';

export interface CreatePermissionInput {
  name: string;
  /** Catalogue actions, none twice. */
  operations: string[];
}

/** Attributes given replace, others stay. */
export type UpdatePermissionInput = Partial<CreatePermissionInput>;

/** A page asked for: at most `limit` items (default 20), after the position a previous page's token names. */
export interface PageQuery {
  limit?: number;
  paginationToken?: string;
}

export const DEFAULT_PAGE_SIZE = 20;

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** docs/access.md: one or more catalogue actions, none twice. */
function assertOperations(operations: readonly string[]): void {
  if (operations.length === 0) throw badRequest('invalid_action', 'operations must list at least one action');
  const unknown = invalidActions(operations);
  if (unknown.length > 0) {
    throw badRequest(
      'invalid_action',
      `Not in the action catalogue: ${unknown
        .slice(0, 5)
        .map((a) => `'${a.slice(0, 60)}'`)
        .join(', ')}`,
    );
  }
  const repeated = duplicateActions(operations);
  if (repeated.length > 0)
    throw badRequest('duplicate_action', `Listed more than once: ${repeated.join(', ')}`);
}

function position(query: PageQuery): PagePosition | null {
  if (query.paginationToken === undefined) return null;
  const decoded = decodePageToken(query.paginationToken);
  if (!decoded) throw badRequest('invalid_parameter', 'paginationToken is not a token this API gave out');
  return decoded;
}

function toPage<R extends { created_ts: number; id: string }>(rows: R[], limit: number): Page<R> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return rows.length > limit && last
    ? { items, nextPageToken: encodePageToken({ ts: last.created_ts, id: last.id }) }
    : { items };
}

const archived = () =>
  badRequest('archived', 'Permission is archived; it can no longer be updated or assigned');
const immutable = () => badRequest('immutable', 'Permission is immutable');

@Injectable()
export class PermissionsService {
  constructor(private readonly permissions: PermissionsRepository) {}

  /** `held`: the caller's effective actions; a permission may not carry anything beyond them. */
  async create(
    account: string,
    held: ReadonlySet<string>,
    input: CreatePermissionInput,
  ): Promise<PermissionRow> {
    assertFreeName(input.name, 'Permission', 100);
    assertOperations(input.operations);
    assertMayHandOut(held, input.operations, 'this permission');
    const now = nowSeconds();
    return this.permissions.insert({
      id: generatePermissionId(),
      account,
      name: input.name,
      operations: input.operations,
      is_immutable: false,
      is_archived: false,
      created_ts: now,
      updated_ts: now,
    });
  }

  async list(account: string, query: PageQuery): Promise<Page<PermissionRow>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.permissions.page(account, position(query), limit + 1);
    return toPage(rows, limit);
  }

  async get(account: string, id: string): Promise<PermissionRow> {
    const row = await this.permissions.find(account, id);
    if (!row) throw notFound('Permission');
    return row;
  }

  async update(
    account: string,
    held: ReadonlySet<string>,
    id: string,
    input: UpdatePermissionInput,
  ): Promise<PermissionRow> {
    if (input.name !== undefined) assertFreeName(input.name, 'Permission', 100);
    if (input.operations !== undefined) assertOperations(input.operations);
    return this.permissions.change(
      account,
      id,
      (current) => {
        if (current.is_immutable) throw immutable();
        if (current.is_archived) throw archived();
        // Its holders get whatever is added; what it already carried is nothing new.
        if (input.operations !== undefined)
          assertMayHandOut(held, newlyHandedOut(current.operations, input.operations), 'this permission');
        return {
          name: input.name ?? current.name,
          operations: input.operations ?? current.operations,
          is_archived: false,
        };
      },
      nowSeconds(),
    );
  }

  /** Idempotent: archiving an archived permission answers it unchanged. */
  async archive(account: string, id: string): Promise<PermissionRow> {
    return this.permissions.change(
      account,
      id,
      (current) => {
        if (current.is_immutable) throw immutable();
        return current.is_archived
          ? null
          : { name: current.name, operations: current.operations, is_archived: true };
      },
      nowSeconds(),
    );
  }

  async assign(
    account: string,
    held: ReadonlySet<string>,
    id: string,
    identityId: string,
  ): Promise<AssignmentRow> {
    const user = normalizeUuid(identityId);
    const invalidUser = () => badRequest('invalid_user', 'identityId is not a user of this account');
    if (user === null) throw invalidUser();
    const created = await this.permissions.assign(
      account,
      { id: generateAssignmentId(), permission_id: id, user_uuid: user, account, created_ts: nowSeconds() },
      async (permission, tx) => {
        if (permission.is_archived) throw archived();
        assertMayHandOut(held, permission.operations, 'this permission');
        if (!(await this.permissions.userBelongsTo(account, user, tx))) throw invalidUser();
      },
    );
    if (!created) throw badRequest('already_assigned', 'The user already holds this permission');
    return created;
  }

  async listAssignments(account: string, id: string, query: PageQuery): Promise<Page<AssignmentRow>> {
    if (!(await this.permissions.find(account, id))) throw notFound('Permission');
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.permissions.assignmentPage(account, id, position(query), limit + 1);
    return toPage(rows, limit);
  }

  async revoke(account: string, id: string, assignment: string): Promise<AssignmentRow> {
    const row = await this.permissions.revoke(account, id, assignment);
    if (!row) throw notFound('Assignment');
    return row;
  }
}
