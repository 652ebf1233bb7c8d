// What the twins room shows other rooms (eslint's boundary rule lets them import only this and the Nest module).
export { type TwinResponse, twinResponse } from './twin-response.js';
