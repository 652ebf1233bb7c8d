import { z } from 'zod';

/**
 * The answers of the API as /docs shows them (docs/http.md says what they mean), one named component each. Objects
 * are open (`looseObject`): clients must tolerate fields added later, and the generated typed client keeps the fields
 * named here. The table at the bottom names each operation's success status and body; the OpenAPI test fails for an
 * operation missing from it.
 */
export const responseRegistry = z.registry<{ id: string }>();

const named = <T extends z.ZodType>(id: string, schema: T): T => {
  responseRegistry.add(schema, { id });
  return schema;
};

const uuid = z.string().describe('UUID');
const ts = z.number().describe('seconds since the epoch, millisecond precision');
const tsOrNull = ts.nullable();
const description = z.record(z.string(), z.unknown());

export const ErrorSchema = named(
  'Error',
  z.object({
    subcode: z.string().describe('machine-readable reason, e.g. invalid_identity'),
    description: z.string(),
    trace: z.string().describe('equals the X-Request-Id response header and the request log line'),
  }),
);

const Twin = named(
  'Twin',
  z.looseObject({
    uuid,
    owner: uuid,
    status: z.enum(['alive', 'terminated']),
    description,
    updated_ts: ts,
    creation_certificate: z.looseObject({ uuid, creator: uuid, created_ts: ts }),
    termination_certificate: z.looseObject({ issuer: uuid, terminated_ts: ts }).optional(),
  }),
);
const TwinOrUuid = z.union([uuid, Twin]);

const Identity = named(
  'Identity',
  z.looseObject({
    visibility: z.string().nullable(),
    validity_ts: tsOrNull,
    created_ts: ts,
    updated_ts: ts,
    creation_certificate: z.looseObject({ identity: z.string(), twin: uuid, created_ts: ts, creator: uuid }),
  }),
);
const ListedIdentity = named(
  'ListedIdentity',
  z.looseObject({
    visibility: z.string().nullable().optional().describe('personal identities only'),
    validity_ts: tsOrNull,
    created_ts: ts,
    updated_ts: ts,
  }),
);

const Resolution = named(
  'Resolution',
  z.object({ twins: z.array(TwinOrUuid).describe('UUIDs, or twin objects with details=true') }),
);
const BatchResolution = named(
  'BatchResolution',
  z.object({
    results: z.record(
      z.string(),
      z.union([Resolution, z.object({ error: z.object({ subcode: z.string(), description: z.string() }) })]),
    ),
  }),
);

const RuleReportFields = {
  rule: z.string().nullable().describe("the rule text of the caller's own role; null: the role has none"),
  missing: z
    .array(z.string())
    .optional()
    .describe('variables the rule read that were null, e.g. DICT.site (like missing context values)'),
  detail: z
    .string()
    .describe('evaluated to true / false, evaluation failed (with the message), budget ran out'),
  budget: z
    .enum(['spent', 'deferred'])
    .optional()
    .describe("spent: the request's rule step budget ran out; deferred: compiling the rule did not fit"),
};
const ExplainedCheck = named(
  'ExplainedCheck',
  z.discriminatedUnion('check', [
    z.object({ check: z.literal('context'), passed: z.boolean() }),
    z.object({
      check: z.literal('validity'),
      passed: z.boolean(),
      validity_ts: tsOrNull.optional().describe("shown for the caller's own rows and twins it may see"),
    }),
    z.object({
      check: z.literal('visibility'),
      passed: z.boolean(),
      detail: z
        .string()
        .describe(
          'own identity / visibility rule of its owner holds / granted to this account by a sync source (never the rule text of another account)',
        ),
    }),
    z.object({ check: z.literal('role.identity_rule'), passed: z.boolean(), ...RuleReportFields }),
  ]),
);
/** docs/resolution.md "Explaining an answer"; exported for the suites that hold answers to it. */
export const Explanation = named(
  'Explanation',
  z.object({
    identity: z.string(),
    details: z.boolean(),
    answer: z
      .union([
        Resolution,
        z.object({
          error: z.object({ status: z.literal(403), subcode: z.string(), description: z.string() }),
        }),
      ])
      .describe("exactly GET /resolve's body for this caller, or the 403 it would answer"),
    caller: z.object({
      account: uuid,
      user: uuid,
      role: uuid,
      credential: z.enum(['secret', 'token']),
      as_user: z
        .boolean()
        .describe('explained for another user of the account (as if it called with a secret)'),
      dict: description.describe('DICT as the rules saw it'),
    }),
    action: z.object({
      name: z.literal('resolve_twin_identity'),
      decision: z.enum(['allow', 'deny']),
      by: z
        .string()
        .describe('role statement, permission pm-…, built-in role Admin|Operator|ReadOnly, user status'),
      reason: z.string().optional().describe('why a deny'),
    }),
    context: z.object({
      given: z.enum(['personal', 'system', 'accounts']),
      accounts: z.array(uuid).nullable().describe('the owners the context keeps; null: every owner (system)'),
    }),
    rows: z
      .array(
        z.object({
          twin: uuid,
          owner: uuid,
          personal: z.boolean(),
          kept: z.boolean(),
          visibility: z.string().nullable().optional().describe("the caller's own identity's rule only"),
          checks: z
            .array(ExplainedCheck)
            .describe('in the order the decision took them; it stops at the first failure'),
        }),
      )
      .describe("the caller's own rows, and other accounts' rows only when kept"),
    twins: z
      .array(
        z.object({
          twin: uuid,
          visible: z.boolean(),
          by: z.enum(['owner', 'role.twin_rule', 'unknown twin']),
          rule: z.string().nullable().optional(),
          missing: z.array(z.string()).optional(),
          detail: z.string().optional(),
          budget: z.enum(['spent', 'deferred']).optional(),
        }),
      )
      .optional()
      .describe('details=true: how each resolved twin was judged visible or not'),
    not_listed: z.string(),
    cache: z.object({ entry: z.enum(['hit', 'miss', 'not read']) }),
  }),
);

const Account = named(
  'Account',
  z.looseObject({
    uuid,
    name: z.string(),
    resource_access_log: z.unknown().optional(),
    created_ts: ts,
    updated_ts: ts,
  }),
);
const Role = named(
  'Role',
  z.looseObject({
    uuid,
    name: z.string(),
    statement: z.object({ effect: z.enum(['allow', 'deny']), actions: z.array(z.string()).nullable() }),
    rules: z.looseObject({ twin_rule: z.string().nullable(), identity_rule: z.string().nullable() }),
    is_immutable: z.boolean(),
    created_ts: ts,
    updated_ts: ts,
  }),
);
const User = named(
  'User',
  z.looseObject({
    uuid,
    account: uuid,
    name: z.string(),
    role: uuid,
    description,
    status: z.enum(['active', 'disabled']),
    created_ts: ts,
    updated_ts: ts,
  }),
);
const SecretInfo = named(
  'SecretInfo',
  z.looseObject({ fingerprint: z.string(), validity_ts: tsOrNull, created_ts: ts.optional() }),
);
const Permission = named(
  'Permission',
  z.looseObject({
    id: z.string(),
    name: z.string(),
    operations: z.array(z.string()),
    status: z.string(),
    isImmutable: z.boolean(),
    isArchived: z.boolean(),
    dateCreated: z.string(),
    dateUpdated: z.string(),
  }),
);
const Assignment = named(
  'Assignment',
  z.looseObject({ id: z.string(), permissionId: z.string(), identityId: uuid, dateCreated: z.string() }),
);
const SyncSource = named(
  'SyncSource',
  z.looseObject({
    uuid,
    name: z.string(),
    base_url: z.string(),
    schedule: z.string().nullable(),
    include_foreign: z.boolean(),
    enabled: z.boolean(),
    max_concurrency: z.number(),
    max_rate: z.number(),
    subscribe: z
      .looseObject({ topic: z.string() })
      .nullable()
      .describe("the upstream topic this source's intake is subscribed to (edge mirror by push)"),
    created_ts: ts,
    updated_ts: ts,
  }),
);
const Topic = named(
  'NotificationTopic',
  z.looseObject({
    topic: z.string(),
    account: uuid,
    triggers: z.array(z.string()),
    rule: z.string().nullable(),
    created_ts: ts,
    updated_ts: ts,
  }),
);
const SubscriptionRef = named(
  'SubscriptionRef',
  z.looseObject({ topic: z.string(), account: uuid.describe('the publishing account'), validity_ts: ts }),
);
const SubscriptionUrls = named(
  'SubscriptionUrls',
  z.looseObject({
    subscription: SubscriptionRef,
    callback_url: z.string(),
    unsubscribe_url: z.string(),
    refresh_url: z.string(),
  }),
);
const WebhookSubscription = named(
  'WebhookSubscription',
  z.looseObject({
    uuid,
    topic: z.string(),
    account: uuid,
    callback_url: z.string(),
    status: z.enum(['pending', 'active', 'suspended', 'expired', 'ended']),
    validity_ts: ts,
    max_batch: z.number().nullable(),
    hashed: z.boolean(),
    failures: z.number(),
    last_error: z.string().nullable(),
    last_delivery_ts: tsOrNull,
    created_ts: ts,
    updated_ts: ts,
  }),
);
const SyncRun = named(
  'SyncRun',
  z.looseObject({
    uuid,
    source: uuid,
    mode: z.enum(['full', 'incremental']),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    progress: z.number().describe('0–100'),
    counts: z.looseObject({
      twins: z.number(),
      upserted: z.number(),
      deleted: z.number(),
      failed: z.number(),
    }),
    started_ts: tsOrNull,
    finished_ts: tsOrNull,
    errors: z.array(z.looseObject({ twin: uuid.nullable(), description: z.string(), ts })),
  }),
);
const Import = named(
  'Import',
  z.looseObject({
    uuid,
    status: z.string().describe('queued, running, completed or failed'),
    progress: z.number().describe('0–100'),
    counts: z.looseObject({
      received: z.number().describe('lines received'),
      imported: z.number().describe('good lines merged'),
      skipped: z.number().describe('bad lines, not merged'),
      changed: z
        .number()
        .describe('identities the import added or changed (0 when the same file is imported again)'),
    }),
    errors: z.array(z.looseObject({ line: z.number(), description: z.string() })),
    created_ts: ts,
    finished_ts: tsOrNull,
  }),
);
const Health = named(
  'Health',
  z.object({
    status: z.enum(['ok', 'error']),
    checks: z.record(z.string(), z.looseObject({ status: z.enum(['up', 'down']) })),
  }),
);

const dict = <T extends z.ZodType>(key: string, value: T) => z.object({ [key]: z.record(z.string(), value) });

/** Success status and body of every operation (operationId); `null` body: not JSON (documented by hand). */
export const SUCCESS: Record<string, { status: number; schema: z.ZodType }> = {
  resolve_twin_identity: { status: 200, schema: Resolution },
  resolve_twin_identities: { status: 200, schema: BatchResolution },
  explain_resolution: { status: 200, schema: Explanation },
  create_twin: { status: 201, schema: Twin },
  scan_twins: {
    status: 200,
    schema: z.object({ twins: z.array(TwinOrUuid), cursor: z.string().nullable() }),
  },
  get_twin: { status: 200, schema: Twin },
  update_twin: { status: 200, schema: Twin },
  terminate_twin: { status: 200, schema: Twin },
  create_twin_identity: { status: 201, schema: dict('identities', Identity) },
  get_twin_identities: {
    status: 200,
    schema: z.object({ accounts: z.record(z.string(), z.record(z.string(), ListedIdentity)) }),
  },
  get_twin_identity: { status: 200, schema: Identity },
  update_twin_identity: { status: 200, schema: Identity },
  delete_twin_identity: { status: 200, schema: Identity },
  get_log: {
    status: 200,
    schema: z.looseObject({
      fragment: z.string().nullable().optional(),
      messages: z.array(z.string()).optional(),
      entries: z.array(
        z.looseObject({
          action: z.string(),
          target_type: z.string(),
          target: z.string(),
          user: uuid.nullable(),
          trace: z.string().nullable(),
        }),
      ),
    }),
  },
  who_am_i: {
    status: 200,
    schema: z.looseObject({
      account: z.unknown().describe('account UUID'),
      user: z.unknown().describe('user UUID'),
      role: z.unknown().describe('role UUID'),
      actions: z.array(z.string()),
    }),
  },
  create_account: {
    status: 201,
    schema: z.looseObject({
      account: Account,
      user: User,
      role: Role,
      secret: z.string().describe('shown once'),
    }),
  },
  get_account: { status: 200, schema: Account },
  update_account: { status: 200, schema: Account },
  create_user_role: { status: 201, schema: Role },
  get_user_roles: { status: 200, schema: dict('roles', Role) },
  get_user_role: { status: 200, schema: Role },
  update_user_role: { status: 200, schema: Role },
  delete_user_role: { status: 200, schema: Role },
  create_user: { status: 201, schema: User },
  get_users: { status: 200, schema: dict('users', User) },
  get_user: { status: 200, schema: User },
  update_user: { status: 200, schema: User },
  delete_user: { status: 200, schema: User },
  create_user_secret_pin: {
    status: 201,
    schema: z.looseObject({
      pin: z.string(),
      pin_validity_ts: ts.optional(),
      validity_ts: tsOrNull.optional(),
    }),
  },
  create_user_secret: {
    status: 201,
    schema: z.looseObject({
      account: z.string(),
      user: z.string(),
      secret: z.string().describe('shown once'),
      fingerprint: z.string(),
      validity_ts: tsOrNull,
      created_ts: ts,
      updated_ts: ts,
    }),
  },
  create_user_secret_with_body: {
    status: 201,
    schema: z.looseObject({
      secret: z.string().describe('shown once'),
      fingerprint: z.string(),
      validity_ts: tsOrNull,
    }),
  },
  create_user_secret_pin_alias: {
    status: 201,
    schema: z.looseObject({ pin: z.string(), validity_ts: ts.describe("the PIN's own expiry") }),
  },
  update_one_user_secret: { status: 200, schema: SecretInfo },
  delete_one_user_secret: { status: 200, schema: SecretInfo },
  get_user_secret: {
    status: 200,
    schema: z.looseObject({ secrets: z.array(SecretInfo) }),
  },
  update_user_secret: { status: 200, schema: SecretInfo },
  delete_user_secret: { status: 200, schema: SecretInfo },
  create_user_token: {
    status: 201,
    schema: z.looseObject({ token: z.string(), validity_ts: tsOrNull }),
  },
  refresh_user_token: {
    status: 201,
    schema: z.looseObject({ token: z.string(), validity_ts: tsOrNull }),
  },
  create_permission: { status: 201, schema: Permission },
  get_permissions: {
    status: 200,
    schema: z.object({ items: z.array(Permission), nextPageToken: z.string().optional() }),
  },
  get_permission: { status: 200, schema: Permission },
  update_permission: { status: 200, schema: Permission },
  archive_permission: { status: 200, schema: Permission },
  assign_permission: { status: 201, schema: Assignment },
  get_permission_assignments: {
    status: 200,
    schema: z.object({ items: z.array(Assignment), nextPageToken: z.string().optional() }),
  },
  revoke_permission: { status: 200, schema: Assignment },
  create_sync_source: {
    status: 201,
    schema: z.looseObject({ ...SyncSource.shape, webhook_token: z.string().describe('shown once') }),
  },
  get_sync_sources: { status: 200, schema: z.object({ sources: z.array(SyncSource) }) },
  get_sync_source: { status: 200, schema: SyncSource },
  update_sync_source: { status: 200, schema: SyncSource },
  delete_sync_source: { status: 200, schema: SyncSource },
  start_sync: { status: 202, schema: SyncRun },
  get_sync_source_runs: { status: 200, schema: z.object({ runs: z.array(SyncRun) }) },
  get_sync_runs: { status: 200, schema: z.object({ runs: z.array(SyncRun) }) },
  get_sync_run: { status: 200, schema: SyncRun },
  sync_webhook: { status: 202, schema: z.object({ queued: z.number() }) },
  create_import: { status: 202, schema: z.looseObject({ uuid, status: z.string() }) },
  get_imports: { status: 200, schema: z.object({ imports: z.array(Import) }) },
  get_import: { status: 200, schema: Import },
  get_notification_topics: { status: 200, schema: z.object({ topics: z.record(z.string(), Topic) }) },
  update_notification_topic: { status: 200, schema: Topic },
  delete_notification_topic: { status: 200, schema: Topic },
  webhook_subscribe: {
    status: 201,
    schema: z.looseObject({
      subscription: SubscriptionRef,
      callback_url: z.string(),
      server_secret: z.string().optional().describe('shown once, when a client_secret was given'),
    }),
  },
  get_webhook_subscriptions: {
    status: 200,
    schema: z.object({ subscriptions: z.array(WebhookSubscription) }),
  },
  get_notifications_access: {
    status: 200,
    schema: z.object({ accounts: z.record(z.string(), z.looseObject({ topics: z.array(z.string()) })) }),
  },
  update_notifications_account_access: {
    status: 200,
    schema: z.looseObject({ topics: z.array(z.string()) }),
  },
  webhook_confirm_subscription: { status: 200, schema: SubscriptionUrls },
  webhook_refresh_subscription: { status: 200, schema: SubscriptionUrls },
  webhook_unsubscribe: { status: 200, schema: z.looseObject({ subscription: SubscriptionRef }) },
  health_live: { status: 200, schema: z.object({ status: z.literal('ok') }) },
  health_ready: { status: 200, schema: Health },
};
