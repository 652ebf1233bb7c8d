export * from './rule-variables.js';
export * from './visibility.js';
export * from './resolution.js';
export * from './query-parameters.js';
export * from './resolve-context.js';
export * from './identity-filters.js';
export * from './twin-sharing.js';
