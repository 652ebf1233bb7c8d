// What the access room shows other rooms (eslint's boundary rule lets them import only this and the Nest module).
export { ApiZodBody } from './openapi-body.js';
