import type { Principal } from '../../../libs/access/principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth guard (or the lean routes' hook) once the secret is verified. */
    principal?: Principal;
  }
}
