import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Where the sample serves Swagger UI; the JSON document is at `/docs-json`. */
export const DOCS_PATH = 'docs';

/** Serves the app's OpenAPI document at `/docs-json` and Swagger UI at `/docs`. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Opportunity Lost Reasons')
    .setVersion('1.0')
    // The module's operations require this scheme (named "bearer"): an API key, not a JWT.
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key' })
    // Generators and linters want a server (Redocly's no-empty-servers); `/` is the one serving the document.
    .addServer('/', 'This server')
    .build();
  // A factory: the document is built on the first request, once every route is registered.
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config));
}
