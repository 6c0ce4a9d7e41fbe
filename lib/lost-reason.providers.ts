import { Provider } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import { LostReasonHooksDispatcher } from './hooks/hooks.dispatcher';
import { LostReasonApiKeyGuard } from './http/api-key.guard';
import { LostReasonRequestRunner } from './http/request.runner';
import { TenantTurns } from './http/tenant-turns';
import { dialectOf } from './persistence/dialects/dialect.registry';
import type { ResolvedLostReasonOptions } from './interfaces/resolved-lost-reason-options.interface';
import type { Repository } from 'typeorm';
import { LostReasonRouteFallback } from './http/route-fallback.service';
import { LostReasonIdempotencyKey } from './persistence/idempotency-key.entity';
import { LostReasonIdempotency } from './idempotency/idempotency.service';
import { LostReasonModuleExtras, LostReasonModuleOptions } from './interfaces/lost-reason-module-options.interface';
import { LOST_REASON_IDEMPOTENCY_REPOSITORY, LOST_REASON_REPOSITORY, LOST_REASON_RESOLVED_OPTIONS } from './common/lost-reason.constants';
import { LOST_REASON_MODULE_OPTIONS } from './lost-reason.module-definition';
import { resolveLostReasonOptions } from './lost-reason.options';
import { LostReasonService } from './service/lost-reason.service';
import { getLostReasonServiceToken } from './service/lost-reason-service.token';
import { LostReason } from './persistence/lost-reason.entity';
import { LostReasonTenancy } from './tenancy/tenancy.service';

/**
 * Every provider of one registration, built once: the options checked against the extras, the
 * repositories on the chosen data source, the service; and, with routes, what serves them.
 */
export function createLostReasonProviders(extras: LostReasonModuleExtras): Provider[] {
  const resource: Provider[] = [
    {
      provide: LOST_REASON_RESOLVED_OPTIONS,
      inject: [LOST_REASON_MODULE_OPTIONS],
      useFactory: (options: LostReasonModuleOptions) => resolveLostReasonOptions(options, extras),
    },
    { provide: LOST_REASON_REPOSITORY, useExisting: getRepositoryToken(LostReason, extras.dataSource) },
    LostReasonService,
    ...namedServiceProviders(extras),
    LostReasonTenancy,
    LostReasonHooksDispatcher,
  ];
  if (!extras.mountRoutes) return resource;
  return [
    ...resource,
    LostReasonApiKeyGuard,
    LostReasonRouteFallback,
    LostReasonRequestRunner,
    {
      provide: TenantTurns,
      inject: [LOST_REASON_RESOLVED_OPTIONS, LOST_REASON_REPOSITORY],
      useFactory: ({ maxConcurrentRequests }: ResolvedLostReasonOptions, { manager: { connection } }: Repository<LostReason>) =>
        new TenantTurns(maxConcurrentRequests ?? dialectOf(connection).concurrencyOf(connection.options)),
    },
    { provide: LOST_REASON_IDEMPOTENCY_REPOSITORY, useExisting: getRepositoryToken(LostReasonIdempotencyKey, extras.dataSource) },
    LostReasonIdempotency,
  ];
}

/** On a named data source, the service under that registration's own token too (`getLostReasonServiceToken`). */
function namedServiceProviders({ dataSource }: LostReasonModuleExtras): Provider[] {
  const token = getLostReasonServiceToken(dataSource);
  return token === LostReasonService ? [] : [{ provide: token, useExisting: LostReasonService }];
}
