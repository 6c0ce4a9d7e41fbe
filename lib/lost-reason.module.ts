import { DynamicModule, Module } from '@nestjs/common';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import { LostReasonModuleExtras, LostReasonModuleOptions } from './interfaces';
import { LostReasonApiKeyGuard } from './http/api-key.guard';
import { LostReasonHooksDispatcher } from './hooks/hooks.dispatcher';
import { LostReasonTenancy } from './tenancy/tenancy.service';
import { LostReasonRouteFallback } from './http/route-fallback.service';
import { LostReasonRequestRunner } from './http/request.runner';
import { createLostReasonController } from './http/lost-reason.controller';
import { DEFAULT_LOST_REASON_PATH, LOST_REASON_REPOSITORY, LOST_REASON_RESOLVED_OPTIONS } from './lost-reason.constants';
import { LostReason } from './persistence/lost-reason.entity';
import { LostReasonIdempotencyKey } from './idempotency/idempotency-key.entity';
import { LOST_REASON_IDEMPOTENCY_REPOSITORY, LostReasonIdempotency } from './idempotency/idempotency.service';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableLostReasonModule,
  LOST_REASON_MODULE_OPTIONS,
  OPTIONS_TYPE,
} from './lost-reason.module-definition';
import { resolveLostReasonOptions, validateLostReasonExtras } from './lost-reason.options';
import { LostReasonService } from './lost-reason.service';

/**
 * Serves the Opportunity Lost Reason resource on the host's TypeORM data source.
 *
 * ```ts
 * LostReasonModule.forRoot({ apiKeys: ['sk_test_…'] })
 * LostReasonModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ apiKeys: … }) })
 * ```
 * Exports `LostReasonService` for the host's own providers.
 */
@Module({})
export class LostReasonModule extends ConfigurableLostReasonModule {
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return this.withResource(super.forRoot(options), options);
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return this.withResource(super.forRootAsync(options), options);
  }

  /** Adds what the builder cannot: the entities on the chosen data source, the routes, the checks. */
  private static withResource(definition: DynamicModule, given: LostReasonModuleExtras): DynamicModule {
    const { path = DEFAULT_LOST_REASON_PATH, dataSource, guards, mountRoutes = true, isGlobal } = given;
    const extras: LostReasonModuleExtras = { path, dataSource, guards, mountRoutes, isGlobal };
    validateLostReasonExtras(extras);
    return {
      ...definition,
      imports: [...(definition.imports ?? []), TypeOrmModule.forFeature([LostReason, LostReasonIdempotencyKey], extras.dataSource)],
      controllers: mountRoutes ? [createLostReasonController(path, guards ?? [LostReasonApiKeyGuard])] : [],
      providers: [
        ...(definition.providers ?? []),
        {
          provide: LOST_REASON_RESOLVED_OPTIONS,
          inject: [LOST_REASON_MODULE_OPTIONS],
          useFactory: (options: LostReasonModuleOptions) => resolveLostReasonOptions(options, extras),
        },
        { provide: LOST_REASON_REPOSITORY, useExisting: getRepositoryToken(LostReason, extras.dataSource) },
        LostReasonService,
        LostReasonTenancy,
        LostReasonHooksDispatcher,
        ...(mountRoutes
          ? [
              LostReasonApiKeyGuard,
              LostReasonRouteFallback,
              LostReasonRequestRunner,
              { provide: LOST_REASON_IDEMPOTENCY_REPOSITORY, useExisting: getRepositoryToken(LostReasonIdempotencyKey, extras.dataSource) },
              LostReasonIdempotency,
            ]
          : []),
      ],
      exports: [...(definition.exports ?? []), LostReasonService],
    };
  }
}
