/**
 * Hand-written baseline: what a typical NestJS developer writes instead of the module
 * (`nest g resource` style), with a global ValidationPipe, on the adapter named by ADAPTER
 * (express, the default | fastify).
 */
import 'reflect-metadata';
import { Module, ValidationPipe } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { databaseOptionsFromUrl, portFromEnv } from '../database-options';
import { ApiKeyGuard } from './api-key.guard';
import { LostReasonController } from './lost-reason.controller';
import { LostReason } from './lost-reason.entity';
import { LostReasonService } from './lost-reason.service';

@Module({
  imports: [TypeOrmModule.forRoot({ ...databaseOptionsFromUrl(), entities: [LostReason] }), TypeOrmModule.forFeature([LostReason])],
  controllers: [LostReasonController],
  providers: [LostReasonService, { provide: APP_GUARD, useClass: ApiKeyGuard }],
})
class AppModule {}

async function bootstrap() {
  const adapter = process.env.ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: ['error', 'warn'] });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.enableShutdownHooks();
  await app.listen(portFromEnv(), '127.0.0.1');
}

void bootstrap();
