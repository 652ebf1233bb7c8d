export * from './access.module.js';
export * from './auth.service.js';
export * from './principal.js';
export * from './secret-token.js';
