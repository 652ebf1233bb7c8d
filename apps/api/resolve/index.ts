/** What other rooms use of resolution: the description of GET /resolve/{identity}, for the OpenAPI document. */
export { documentedResolveParameters, RESOLVE_IDENTITY } from './resolve-operation.js';
