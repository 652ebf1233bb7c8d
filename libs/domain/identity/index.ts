export * from './identity-name.js';
export * from './description.js';
export * from './uuid.js';
