import { Inject, Injectable } from '@nestjs/common';
import { AuthenticationException } from '../errors';
import { LOST_REASON_RESOLVED_OPTIONS } from '../common/lost-reason.constants';
import type { ResolvedLostReasonOptions } from '../interfaces/resolved-lost-reason-options.interface';
import { isTenantId } from './tenant-id.util';

/** Where the key check leaves the tenant of the key it accepted: on the request itself. */
const KEY_TENANT = Symbol('lostReasonKeyTenant');

type WithKeyTenant = { [KEY_TENANT]?: string };

/** The tenant each request of the module acts for, when tenancy is on. */
@Injectable()
export class LostReasonTenancy {
  constructor(@Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions) {}

  /** Called by the key check with the tenant the accepted key belongs to; it travels with the request. */
  recordKeyTenant(request: object, tenant: string): void {
    (request as WithKeyTenant)[KEY_TENANT] = tenant;
  }

  /**
   * The request's tenant: from its key, or from the host's `tenant` function; `undefined`
   * when tenancy is off. A request that maps to no valid tenant is refused (401): it must
   * never fall back to another tenant's objects.
   */
  async tenantOf(request: object): Promise<string | undefined> {
    if (!this.options.multiTenant) return undefined;
    const tenant = this.options.tenantOf ? await this.options.tenantOf(request) : (request as WithKeyTenant)[KEY_TENANT];
    if (!isTenantId(tenant)) throw new AuthenticationException();
    return tenant;
  }
}
