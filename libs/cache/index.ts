export * from './change-message.js';
export * from './change-feed.js';
export * from './coherent-cache.js';
export * from './cache.module.js';
