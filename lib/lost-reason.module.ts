import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LostReasonApiKeyGuard } from './http/api-key.guard';
import { createLostReasonController } from './http/lost-reason.controller';
import { LostReasonIdempotencyKey } from './persistence/idempotency-key.entity';
import { LostReasonModuleExtras } from './interfaces/lost-reason-module-options.interface';
import { ASYNC_OPTIONS_TYPE, ConfigurableLostReasonModule, OPTIONS_TYPE } from './lost-reason.module-definition';
import { resolveLostReasonExtras } from './lost-reason.options';
import { createLostReasonProviders } from './lost-reason.providers';
import { LostReasonService } from './service/lost-reason.service';
import { getLostReasonServiceToken } from './service/lost-reason-service.token';
import { LostReason } from './persistence/lost-reason.entity';

/**
 * Serves the Opportunity Lost Reason resource on the host's TypeORM data source.
 *
 * ```ts
 * LostReasonModule.forRoot({ apiKeys: ['sk_test_…'] })
 * LostReasonModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ apiKeys: … }) })
 * ```
 * Exports `LostReasonService` for the host's own providers; on a named data source also under
 * `getLostReasonServiceToken(dataSource)` (`@InjectLostReasonService(dataSource)`), so that two
 * registrations on two data sources each have their own.
 */
@Module({})
export class LostReasonModule extends ConfigurableLostReasonModule {
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return this.withResource(super.forRoot(options), options);
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return this.withResource(super.forRootAsync(options), options);
  }

  /** Adds what the builder cannot: the entities on the chosen data source, the routes, the providers. */
  private static withResource(definition: DynamicModule, given: LostReasonModuleExtras): DynamicModule {
    const extras = resolveLostReasonExtras(given);
    return {
      ...definition,
      imports: [...(definition.imports ?? []), TypeOrmModule.forFeature([LostReason, LostReasonIdempotencyKey], extras.dataSource)],
      controllers: extras.mountRoutes ? [createLostReasonController(extras.path, extras.guards ?? [LostReasonApiKeyGuard])] : [],
      providers: [...(definition.providers ?? []), ...createLostReasonProviders(extras)],
      // The class, and on a named data source the registration's own token too.
      exports: [...(definition.exports ?? []), ...new Set([LostReasonService, getLostReasonServiceToken(extras.dataSource)])],
    };
  }
}
