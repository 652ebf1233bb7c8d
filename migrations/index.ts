import { InitialSchema1763900000000 } from './1763900000000-initial-schema.js';

/** Every migration, oldest first. Listed explicitly so ts (tests) and compiled js (dist) load the same set. */
export const migrations = [InitialSchema1763900000000];
