import { SetMetadata } from '@nestjs/common';
import type { Action } from '../../../libs/domain/access/action-catalogue.js';

export const ACTION_KEY = 'twindex:action';

/** How a route is admitted. Every route must declare one; the guard refuses routes that do not. */
export type RouteAccess =
  | { kind: 'action'; action: Action }
  | { kind: 'public' }
  /** Authenticated by something other than a user secret (operator key, webhook token); the handler checks it. */
  | { kind: 'own-credential'; credential: 'operator-key' | 'webhook-token' | 'metrics-token' };

export const RequiresAction = (action: Action) =>
  SetMetadata(ACTION_KEY, { kind: 'action', action } satisfies RouteAccess);
export const Public = () => SetMetadata(ACTION_KEY, { kind: 'public' } satisfies RouteAccess);
export const OwnCredential = (credential: 'operator-key' | 'webhook-token' | 'metrics-token') =>
  SetMetadata(ACTION_KEY, { kind: 'own-credential', credential } satisfies RouteAccess);
