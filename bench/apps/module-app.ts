/**
 * The module as a host embeds it, on the adapter named by ADAPTER (express | fastify).
 * Same AppModule as sample/app.module.ts, except that the table already exists (the runner
 * lets the sample app create it), so no `synchronize`.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LostReasonModule } from 'nestjs-lost-reason';
import { apiKeysFromEnv, databaseOptionsFromUrl, portFromEnv } from './database-options';

@Module({
  imports: [
    TypeOrmModule.forRoot({ ...databaseOptionsFromUrl(), autoLoadEntities: true }),
    // PREPARED_STATEMENTS=off: the module through TypeORM's query() instead, to compare.
    LostReasonModule.forRoot({ apiKeys: apiKeysFromEnv(), preparedStatements: process.env.PREPARED_STATEMENTS !== 'off' }),
  ],
})
class AppModule {}

/**
 * `bench/galera.js` only: the module without Galera's causal reads, to measure what they cost.
 * Hosts have no such switch: without them a node can answer 404 for an object just created.
 */
if (process.env.BENCH_CAUSAL_READS === 'off') {
  // The file behind the package's own entry point (dist/), so the very object the module uses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { mysqlDialect } = require(join(__dirname, '../../dist/persistence/dialects/mysql.dialect'));
  mysqlDialect.causalReadPrefix = async () => '';
}

async function bootstrap() {
  const adapter = process.env.ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(portFromEnv(), '127.0.0.1');
}

void bootstrap();
