import type { Db } from '../../store/db.js';
import { HeldActionsRepository } from '../held-actions.repository.js';
import { NO_PRINCIPAL_CACHE } from '../principal-eviction.js';
import { RolesRepository } from '../roles/roles.repository.js';
import { SecretsRepository } from '../secrets/secrets.repository.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { UsersRepository } from '../users/users.repository.js';
import { AccountsRepository } from './accounts.repository.js';
import { AccountsService } from './accounts.service.js';

/**
 * The accounts service for a process that serves no request (the command line): built without Nest and without a
 * principal cache, which needs the change feed and would hold nothing. API instances hear of its writes through the
 * schema's triggers, as of any other instance's.
 */
export function accountsWithoutPrincipalCache(db: Db): AccountsService {
  const users = new UsersRepository(db, NO_PRINCIPAL_CACHE);
  const secrets = new SecretsService(
    db,
    new SecretsRepository(db, NO_PRINCIPAL_CACHE),
    users,
    new HeldActionsRepository(db),
  );
  return new AccountsService(
    db,
    new AccountsRepository(db, NO_PRINCIPAL_CACHE),
    new RolesRepository(db, NO_PRINCIPAL_CACHE),
    users,
    secrets,
  );
}
