/** What other rooms use of the OpenAPI document's machinery: zod schemas turned into OpenAPI schemas. */
export { toOpenApiSchema } from './zod-openapi.js';
