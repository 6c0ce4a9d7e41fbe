/**
 * Framework ceiling: a NestJS app whose route returns a constant object, on the adapter named
 * by ADAPTER (express | fastify). No guard, no database: what Nest itself costs per request.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { portFromEnv } from './database-options';

const CONSTANT = {
  id: 'opportunity-lost-reason_00000000000000000000000000000000',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  lost_reason: 'Price too high',
};

@Controller('api/crm/opportunity-lost-reason')
class ConstantController {
  @Get(':id')
  retrieve(@Param('id') _id: string) {
    return CONSTANT;
  }
}

@Module({ controllers: [ConstantController] })
class AppModule {}

async function bootstrap() {
  const adapter = process.env.ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(portFromEnv(), '127.0.0.1');
}

void bootstrap();
