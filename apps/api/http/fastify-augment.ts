import type { Principal } from '../../../libs/access/principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth guard (or the lean routes' hook) once the secret is verified. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /**
     * The route reads bodies of its own media types (imports: NDJSON and CSV; the dashboard's login form) and
     * answers a wrong one itself; every other route takes JSON only (see http/json-bodies.ts).
     */
    ownMediaTypes?: boolean;
  }
}
