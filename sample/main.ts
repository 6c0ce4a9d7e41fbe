import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LOST_REASON_DEFAULTS } from 'nestjs-lost-reason';
import { DataSource } from 'typeorm';
import { apiKeysFromEnv, AppModule, DEMO_API_KEY } from './app.module.js';
import { DOCS_PATH, setupOpenApi } from './openapi.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  setupOpenApi(app);
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const logger = new Logger('Sample');
  const { options } = app.get(DataSource);
  logger.log(`Database: ${options.type} ${options.database ?? ''}`.trimEnd());
  if (Object.values(apiKeysFromEnv()).includes(DEMO_API_KEY)) logger.log(`API_KEYS names no key: use the demo key ${DEMO_API_KEY}`);
  logger.log(`Serving http://localhost:${port}/${LOST_REASON_DEFAULTS.path}`);
  logger.log(`API docs at http://localhost:${port}/${DOCS_PATH} (JSON: /${DOCS_PATH}-json)`);
}

void bootstrap();
