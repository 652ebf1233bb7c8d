// Runs TypeScript sources directly in a child `node` process (the crash and shutdown tests spawn the real worker):
// `node --import ./test/upstream-simulator/ts-register.mjs apps/worker/main.ts`. Transpiles with @swc/core exactly
// as the Jest config does; no type checking, no build step.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
