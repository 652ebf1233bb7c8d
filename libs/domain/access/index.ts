export * from './action-catalogue.js';
export * from './built-in-roles.js';
export * from './permission-evaluation.js';
export * from './escalation-check.js';
export * from './token-lineage.js';
