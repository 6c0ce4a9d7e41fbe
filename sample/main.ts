import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DEFAULT_LOST_REASON_PATH } from 'nestjs-lost-reason';
import { apiKeysFromEnv, AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const logger = new Logger('Sample');
  if (!process.env.API_KEYS) logger.log('API_KEYS is not set: use the demo key sk_test_sample');
  logger.log(`Serving http://localhost:${port}/${DEFAULT_LOST_REASON_PATH}`);
}

void bootstrap();
