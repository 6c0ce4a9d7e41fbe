import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { withinDeadline } from '../common/deadline.util';
import { LOST_REASON_RESOLVED_OPTIONS } from '../common/lost-reason.constants';
import type { ResolvedLostReasonOptions } from '../interfaces/resolved-lost-reason-options.interface';
import { LostReasonService } from '../service/lost-reason.service';
import { LostReasonTenancy } from '../tenancy/tenancy.service';
import { malformedRequest, unknownUrlOf } from './own-path.rule';
import { REQUEST_ID_HEADER, requestIdOf } from '../common/request-id.util';
import { TenantTurns, Turn } from './tenant-turns';

/** Who a request acts for: its tenant (when tenancy is on) and the service acting for it. */
export interface LostReasonRequestScope {
  tenant?: string;
  service: LostReasonService;
}

/**
 * What every route of the module does around its own work: tags the answer with its
 * `Request-Id` (the one place for successes; errors get it from `errorHeaders`), resolves the
 * request's tenant and bounds the whole request by `requestTimeoutMs`. Plain calls from the
 * controller rather than Nest interceptors: Nest wraps each interceptor in an async resource per
 * request, which the benchmark's profile showed as a cost of its own.
 */
@Injectable()
export class LostReasonRequestRunner {
  constructor(
    private readonly lostReasons: LostReasonService,
    private readonly tenancy: LostReasonTenancy,
    private readonly adapterHost: HttpAdapterHost,
    private readonly turns: TenantTurns,
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions,
  ) {}

  run<T>(
    request: { method?: string; url?: string; headers?: Record<string, unknown>; socket?: { destroyed?: boolean } },
    response: object,
    work: (scope: LostReasonRequestScope) => Promise<T>,
  ): Promise<T> {
    this.setHeader(response, REQUEST_ID_HEADER, requestIdOf(request));
    const refusal = malformedRequest(request) ?? unknownUrlOf(request, true);
    if (refusal) return Promise.reject(refusal);
    // One deadline from here, waiting for a turn included: a request whose deadline passed, or
    // whose client went away, while it waited never starts.
    const turn: Turn = { expired: false, socket: request.socket };
    const scoped = this.scopeOf(request).then((scope) => this.turns.run(scope.tenant ?? '', turn, () => work(scope)));
    return withinDeadline(scoped, this.options.requestTimeoutMs, () => (turn.expired = true));
  }

  /** Sets a header on the answer, on Express or Fastify. */
  setHeader(response: object, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(response, name, value);
  }

  private async scopeOf(request: object): Promise<LostReasonRequestScope> {
    const tenant = await this.tenancy.tenantOf(request);
    return { tenant, service: tenant === undefined ? this.lostReasons : this.lostReasons.forTenant(tenant) };
  }
}
