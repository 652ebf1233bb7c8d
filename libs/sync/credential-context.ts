/**
 * The associated data an upstream secret is sealed with: the source and the ORIGIN of the base_url it was given
 * for. Opening it for any other origin fails, so a base_url moved to an attacker's host can never carry the stored
 * credential there, even if the API check were bypassed (a race, a direct database write).
 */
export function credentialContext(source: string, baseUrl: string): string {
  return `${source} ${new URL(baseUrl).origin}`;
}
