import type { Page } from '../../../../libs/access/permissions/permissions.service.js';
import type {
  AssignmentRow,
  PermissionRow,
} from '../../../../libs/access/permissions/permissions.repository.js';

/** DFNS's permission resource: camelCase, ISO dates (docs/access.md). */
export interface PermissionView {
  id: string;
  name: string;
  operations: string[];
  /** Always `Active`, as on DFNS; archiving shows in `isArchived`. */
  status: 'Active';
  isImmutable: boolean;
  isArchived: boolean;
  dateCreated: string;
  dateUpdated: string;
}

export interface AssignmentView {
  id: string;
  permissionId: string;
  identityId: string;
  dateCreated: string;
}

const iso = (ts: number) => new Date(Math.round(ts * 1000)).toISOString();

export function permissionView(row: PermissionRow): PermissionView {
  return {
    id: row.id,
    name: row.name,
    operations: row.operations,
    status: 'Active',
    isImmutable: row.is_immutable,
    isArchived: row.is_archived,
    dateCreated: iso(row.created_ts),
    dateUpdated: iso(row.updated_ts),
  };
}

export function assignmentView(row: AssignmentRow): AssignmentView {
  return {
    id: row.id,
    permissionId: row.permission_id,
    identityId: row.user_uuid,
    dateCreated: iso(row.created_ts),
  };
}

/** DFNS's page: `items`, and `nextPageToken` only when more follow. */
export type PageView<V> = Page<V>;

export function pageView<R, V>(view: (row: R) => V): (page: Page<R>) => PageView<V> {
  return (page) => ({ ...page, items: page.items.map((row) => view(row)) });
}
