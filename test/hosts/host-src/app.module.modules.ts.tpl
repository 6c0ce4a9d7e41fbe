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
      // OpportunitiesModule injects LostReasonService.
      isGlobal: true,
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        apiKeys: apiKeysFrom(config.getOrThrow<string>('CRM_API_KEYS')),
      }),
    }),
    OpportunitiesModule,
