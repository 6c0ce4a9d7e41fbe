import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LOST_REASON_MIGRATIONS, LostReasonModule } from 'nestjs-lost-reason';
import { AppController } from './app.controller__EXT__';
import { AppService } from './app.service__EXT__';
import { databaseOptions } from './database__EXT__';
import { OpportunitiesController } from './opportunities/opportunities.controller__EXT__';
import { OpportunitiesService } from './opportunities/opportunities.service__EXT__';

@Module({
  imports: [
    ConfigModule.forRoot(),
    TypeOrmModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        ...databaseOptions(config.getOrThrow<string>('DATABASE_URL')),
        autoLoadEntities: true,
        synchronize: false,
        migrations: [...LOST_REASON_MIGRATIONS],
        // Off by default: deployments run `typeorm migration:run` (see data-source.ts).
        migrationsRun: config.get<string>('DATABASE_MIGRATIONS_RUN') === 'true',
      }),
    }),
    LostReasonModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        apiKeys: config
          .getOrThrow<string>('CRM_API_KEYS')
          .split(',')
          .map((key) => key.trim()),
      }),
    }),
  ],
  controllers: [AppController, OpportunitiesController],
  providers: [AppService, OpportunitiesService],
})
export class AppModule {}
