import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { LOST_REASON_RESOLVED_OPTIONS } from '../common/lost-reason.constants';
import { BEARER_HEADER_PATTERN, digestApiKey } from './bearer-token.rule';
import { AuthenticationException } from '../errors';
import { withinDeadline } from '../common/deadline.util';
import { isRepeatedHeader, RequestHeaders } from '../common/repeated-header.util';
import { ResolvedLostReasonOptions } from '../interfaces/resolved-lost-reason-options.interface';
import { LostReasonTenancy } from '../tenancy/tenancy.service';

/** What the guard reads of a request: Express's, Fastify's, or Node's own. */
export type AuthorizedRequest = RequestHeaders;

/** The request's `Authorization` header, or `undefined` when it was sent more than once. */
function authorizationOf(request: AuthorizedRequest): unknown {
  return isRepeatedHeader(request, 'authorization') ? undefined : request.headers?.authorization;
}

/** A key the check accepted, with its tenant when keys are given per tenant. */
interface Accepted {
  tenant?: string;
}

type MaybePromise<T> = T | PromiseLike<T>;

const isThenable = <T>(value: MaybePromise<T>): value is PromiseLike<T> =>
  typeof (value as { then?: unknown } | undefined)?.then === 'function';

/** Accepts a request whose one `Authorization: Bearer <key>` holds a key the options allow. */
@Injectable()
export class LostReasonApiKeyGuard implements CanActivate {
  constructor(
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions,
    private readonly tenancy: LostReasonTenancy,
  ) {}

  /**
   * Synchronous when the key is one of the configured ones (Nest then skips an await per
   * request); a promise only when the host's `verifyApiKey` is asked.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest();
    const accepted = this.authenticate(authorizationOf(request));
    // Any thenable, not only this realm's Promise: an object must never pass for an accepted key.
    return isThenable(accepted) ? Promise.resolve(accepted).then((found) => this.admit(request, found)) : this.admit(request, accepted);
  }

  /**
   * Whether a request's credentials pass the module's key check (true when it is off). Given
   * an `Authorization` header's value instead (the form this method took first), that value.
   */
  async isAuthenticated(request: AuthorizedRequest | string): Promise<boolean> {
    return (await this.authenticate(typeof request === 'string' ? request : authorizationOf(request))) !== undefined;
  }

  /** The accepted key's tenant (when keys are given per tenant), or `undefined` if refused. */
  protected authenticate(header: unknown): MaybePromise<Accepted | undefined> {
    if (!this.options.checkApiKey) return {};
    const key = typeof header === 'string' ? BEARER_HEADER_PATTERN.exec(header)?.[1] : undefined;
    return key === undefined ? undefined : this.accept(key);
  }

  protected accept(key: string): MaybePromise<Accepted | undefined> {
    const digest = digestApiKey(key);
    // Compare against every key, without stopping early, so timing says nothing about which matched.
    let match: Accepted | undefined;
    for (const accepted of this.options.apiKeys) {
      if (timingSafeEqual(digest, accepted.digest)) match = { tenant: accepted.tenant };
    }
    if (match) return match;
    if (!this.options.verifyApiKey) return undefined;
    // The host's verifier gets the request's deadline too: past it, a 503 instead of a hang.
    return withinDeadline(this.options.verifyApiKey(key), this.options.requestTimeoutMs).then((verified) =>
      verified === true ? {} : undefined,
    );
  }

  private admit(request: object, accepted: Accepted | undefined): true {
    if (!accepted) throw new AuthenticationException();
    if (accepted.tenant !== undefined) this.tenancy.recordKeyTenant(request, accepted.tenant);
    return true;
  }
}
