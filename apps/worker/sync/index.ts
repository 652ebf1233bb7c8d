// What the sync room shows other worker rooms (eslint's boundary rule lets them import only this and the Nest module).
export { WORKER_LOCKS } from './worker-locks.js';
