import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';

async function bootstrap() {
  // HTTP_ADAPTER=fastify serves on Fastify, otherwise Express (the CLI's default).
  const app =
    process.env.HTTP_ADAPTER === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter())
      : await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const config = new DocumentBuilder().setTitle('Host').addBearerAuth().build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
  await app.listen(process.env.PORT ?? 3000, process.env.HOST ?? '0.0.0.0');
  console.log(`Application is running on: ${await app.getUrl()}`);
}
await bootstrap();
