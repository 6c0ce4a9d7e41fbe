import { Injectable } from '@nestjs/common';
import { LostReasonService } from 'nestjs-lost-reason';

/** The host's own code, on the module's injected service. */
@Injectable()
export class OpportunitiesService {
  constructor(private readonly lostReasons: LostReasonService) {}

  async markLost(reason: string): Promise<string> {
    const { id } = await this.lostReasons.create({ lost_reason: reason });
    return id;
  }

  async countLostReasons(): Promise<number> {
    const { total } = await this.lostReasons.list({ limit: 1 });
    return total;
  }
}
