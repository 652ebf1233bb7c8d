import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { completeDocument } from './complete-document.js';
import { addLeanRoutesToDocument } from './lean-routes.js';

/**
 * The OpenAPI document of the whole API: what Nest's explorer reads from the controllers' decorators, the lean
 * routes it cannot see (lean-routes.ts), then the contract every operation shares (complete-document.ts).
 */
export function buildApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Twindex')
      .setDescription('Identity resolution and indexing for digital twins')
      .setVersion('0.1.0')
      .build(),
  );
  addLeanRoutesToDocument(document);
  return completeDocument(document);
}

/** Serves the document at /docs/openapi.json and, when `ui`, the browsable Swagger UI at /docs. */
export function mountApiDocument(app: INestApplication, options: { ui: boolean }): void {
  SwaggerModule.setup('docs', app, buildApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
    ui: options.ui,
  });
}
