import { z } from 'zod';

/**
 * What the consumed subset of the Trusted Twin API answers. Upstreams may add attributes; only what sync needs is
 * checked, and everything else is ignored.
 */
const timestamp = z.number();

export const twinsPageSchema = z.looseObject({
  twins: z.array(z.union([z.string(), z.looseObject({ uuid: z.string() })])),
  cursor: z.string().nullable().optional(),
});
export type UpstreamTwinsPage = z.infer<typeof twinsPageSchema>;

export const twinSchema = z.looseObject({
  uuid: z.string().optional(),
  owner: z.string(),
  status: z.enum(['alive', 'terminated']),
  description: z.record(z.string(), z.unknown()).optional(),
  updated_ts: timestamp.optional(),
  creation_certificate: z.looseObject({ creator: z.string().optional(), created_ts: timestamp }),
  termination_certificate: z
    .looseObject({ issuer: z.string().optional(), terminated_ts: timestamp })
    .nullable()
    .optional(),
});
export type UpstreamTwin = z.infer<typeof twinSchema>;

export const identityAttributesSchema = z.looseObject({
  visibility: z.string().nullable().optional(),
  validity_ts: timestamp.nullable().optional(),
  created_ts: timestamp,
  updated_ts: timestamp,
});

export const identitiesSchema = z.looseObject({
  accounts: z.record(z.string(), z.record(z.string(), identityAttributesSchema)),
});
export type UpstreamIdentities = z.infer<typeof identitiesSchema>;
