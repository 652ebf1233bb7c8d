// What the sync room shows other rooms (eslint's boundary rule lets them import only this and the Nest module).
export { accountOf } from './sync-request.js';
