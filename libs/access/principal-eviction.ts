/**
 * What the access writers need of the principal cache: drop an account's cached principals once a change to its
 * access data (account, roles, users, secrets, permissions, assignments) is committed. In the API it is
 * AuthService, which holds that cache; the schema's triggers tell every other instance through the change feed.
 */
export abstract class PrincipalEviction {
  abstract invalidateAccount(account: string): void;
}

/**
 * For a process that serves no request and so caches no principal (the command line). API instances hear of its
 * writes through the schema's triggers, like any other instance's.
 */
export const NO_PRINCIPAL_CACHE: PrincipalEviction = { invalidateAccount: () => undefined };
