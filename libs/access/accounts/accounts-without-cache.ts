import type { Db } from '../../store/db.js';
import { HeldActionsRepository } from '../held-actions.repository.js';
import { CommittedChanges } from '../../store/committed-changes.js';
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
  // Nobody listens: what the writers report costs nothing.
  const changes = new CommittedChanges();
  const users = new UsersRepository(db, changes);
  const secrets = new SecretsService(
    db,
    new SecretsRepository(db, changes),
    users,
    new HeldActionsRepository(db),
  );
  return new AccountsService(
    db,
    new AccountsRepository(db, changes),
    new RolesRepository(db, changes),
    users,
    secrets,
  );
}
