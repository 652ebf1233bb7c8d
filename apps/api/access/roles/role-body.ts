import { z } from 'zod';

/** More entries than the catalogue holds cannot be a valid list; bounds the work done on hostile input. */
const MAX_LISTED_ACTIONS = 200;

export const statementSchema = z.strictObject({
  effect: z.enum(['allow', 'deny']),
  actions: z.array(z.string().max(100)).max(MAX_LISTED_ACTIONS).nullable().optional(),
});

export const roleRulesSchema = z.strictObject({
  twin_rule: z.string().nullable().optional(),
  identity_rule: z.string().nullable().optional(),
  /** Trusted Twin's rule over ledger entries: compiled and stored, never applied (Twindex keeps no ledgers). */
  entry_rule: z.string().nullable().optional(),
});

export const createRoleSchema = z.strictObject({
  name: z.string(),
  statement: statementSchema.optional(),
  rules: roleRulesSchema.optional(),
});

/** Attributes given replace, others stay; inside `rules`, each rule given replaces that rule only. */
export const updateRoleSchema = z.strictObject({
  name: z.string().optional(),
  statement: statementSchema.optional(),
  rules: roleRulesSchema.optional(),
});
