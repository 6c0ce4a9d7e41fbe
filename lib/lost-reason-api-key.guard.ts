import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { LOST_REASON_RESOLVED_OPTIONS } from './lost-reason.constants';
import { AuthenticationException } from './exceptions';
import { digestApiKey, ResolvedLostReasonOptions } from './lost-reason.options';

/** `Bearer <token>` with RFC 6750's token characters; anything else is malformed. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Accepts a request whose `Authorization: Bearer <key>` holds a key the options allow. */
@Injectable()
export class LostReasonApiKeyGuard implements CanActivate {
  constructor(@Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.options.checkApiKey) return true;
    const header: unknown = context.switchToHttp().getRequest().headers?.authorization;
    const key = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (key === undefined || !(await this.isAccepted(key))) throw new AuthenticationException();
    return true;
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
