import { Injectable } from '@nestjs/common';
import { LostReasonService } from 'nestjs-lost-reason';

/** The host's own code, on the module's injected service. */
@Injectable()
export class OpportunitiesService {
  constructor(private readonly lostReasons: LostReasonService) {}

  async markLost(reason: string, tenant?: string): Promise<string> {
    const { id } = await this.serviceFor(tenant).create({ lost_reason: reason });
    return id;
  }

  async countLostReasons(tenant?: string): Promise<number> {
    const { total } = await this.serviceFor(tenant).list({ limit: 1 });
    return total;
  }

  /** With tenancy on, every call names its tenant; without it, there is none to name. */
  private serviceFor(tenant: string | undefined): LostReasonService {
    return tenant === undefined ? this.lostReasons : this.lostReasons.forTenant(tenant);
  }
}
