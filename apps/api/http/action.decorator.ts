import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import type { Action } from '../../../libs/domain/access/action-catalogue.js';

export const ACTION_KEY = 'twindex:action';

/** How a route is admitted. Every route must declare one; the guard refuses routes that do not. */
export type RouteAccess =
  | { kind: 'action'; action: Action }
  | { kind: 'public' }
  /** Authenticated by something other than a user secret (operator key, webhook token); the handler checks it. */
  | { kind: 'own-credential'; credential: 'operator-key' | 'webhook-token' | 'metrics-token' };

/**
 * The OpenAPI security scheme of each way in (apps/api/openapi/complete-document.ts declares them). Declared here,
 * beside the admission rule itself, so that no authenticated route can reach /docs without its security — Swagger
 * UI sends the Authorization header of "Authorize" only to operations that declare it.
 */
export const SECURITY_SCHEME = {
  secret: 'secret',
  'operator-key': 'operator',
  'webhook-token': 'webhook',
  'metrics-token': 'metrics',
} as const;

export const RequiresAction = (action: Action) =>
  applyDecorators(
    SetMetadata(ACTION_KEY, { kind: 'action', action } satisfies RouteAccess),
    ApiSecurity(SECURITY_SCHEME.secret),
  );
export const Public = () => SetMetadata(ACTION_KEY, { kind: 'public' } satisfies RouteAccess);
export const OwnCredential = (credential: 'operator-key' | 'webhook-token' | 'metrics-token') =>
  applyDecorators(
    SetMetadata(ACTION_KEY, { kind: 'own-credential', credential } satisfies RouteAccess),
    ApiSecurity(SECURITY_SCHEME[credential]),
  );
