import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { BEARER_HEADER_PATTERN, LOST_REASON_RESOLVED_OPTIONS } from './lost-reason.constants';
import { AuthenticationException } from './exceptions';
import { digestApiKey, ResolvedLostReasonOptions } from './lost-reason.options';

/** Accepts a request whose `Authorization: Bearer <key>` holds a key the options allow. */
@Injectable()
export class LostReasonApiKeyGuard implements CanActivate {
  constructor(@Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!(await this.isAuthenticated(context.switchToHttp().getRequest().headers?.authorization))) {
      throw new AuthenticationException();
    }
    return true;
  }

  /** Whether an `Authorization` header value passes the module's key check (true when it is off). */
  async isAuthenticated(header: unknown): Promise<boolean> {
    if (!this.options.checkApiKey) return true;
    const key = typeof header === 'string' ? BEARER_HEADER_PATTERN.exec(header)?.[1] : undefined;
    return key !== undefined && this.isAccepted(key);
  }

  protected async isAccepted(key: string): Promise<boolean> {
    const digest = digestApiKey(key);
    // Compare against every key, without stopping early, so timing says nothing about which matched.
    let listed = false;
    for (const accepted of this.options.apiKeyDigests) listed = timingSafeEqual(digest, accepted) || listed;
    if (listed) return true;
    return this.options.verifyApiKey ? (await this.options.verifyApiKey(key)) === true : false;
  }
}
