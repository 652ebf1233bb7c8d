export * from './committed-changes.js';
export * from './db.js';
export * from './database-setup.js';
export * from './store.module.js';
