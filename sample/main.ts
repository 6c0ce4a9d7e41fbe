import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { LOST_REASON_DEFAULTS } from 'nestjs-lost-reason';
import { DataSource } from 'typeorm';
import { apiKeysFromEnv, AppModule, DEMO_API_KEY } from './app.module.js';
import { setupCors } from './cors.js';
import { DOCS_PATH, setupOpenApi } from './openapi.js';

async function bootstrap() {
  // Express by default, as `nest new` sets a host up; ADAPTER=fastify serves the same app on Fastify.
  const adapter = process.env.ADAPTER ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify') throw new Error(`ADAPTER must be express or fastify, not "${adapter}"`);
  const app = adapter === 'fastify' ? await NestFactory.create(AppModule, new FastifyAdapter()) : await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  // Headers and bodies arrive before requestTimeoutMs starts: bound slow clients on the server,
  // on either adapter (docs/faults-and-scaling.md, "HTTP server settings").
  const server = app.getHttpServer();
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  setupCors(app);
  setupOpenApi(app);
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const logger = new Logger('Sample');
  const { options } = app.get(DataSource);
  logger.log(`Database: ${options.type} ${options.database ?? ''}`.trimEnd());
  logger.log(`Adapter: ${adapter}`);
  if (Object.values(apiKeysFromEnv()).includes(DEMO_API_KEY)) logger.log(`API_KEYS names no key: use the demo key ${DEMO_API_KEY}`);
  logger.log(`Serving http://localhost:${port}/${LOST_REASON_DEFAULTS.path}`);
  logger.log(`API docs at http://localhost:${port}/${DOCS_PATH} (JSON: /${DOCS_PATH}-json)`);
}

void bootstrap();
