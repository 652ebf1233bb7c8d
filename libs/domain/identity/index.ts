export * from './identity-name.js';
export * from './description.js';
export * from './uuid.js';
export * from './well-formed-text.js';
