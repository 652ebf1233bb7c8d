/** What other rooms use of the OpenAPI document's machinery. */
export { mountApiDocument } from './api-document.js';
export { toOpenApiSchema } from './zod-openapi.js';
