/**
 * Trusted Twin answers lists of roles and users as a dictionary keyed by UUID; insertion order keeps ours (for
 * roles, built-ins first).
 */
export function byUuid<V extends { uuid: string }>(views: readonly V[]): Record<string, V> {
  const out: Record<string, V> = {};
  for (const v of views) out[v.uuid] = v;
  return out;
}
