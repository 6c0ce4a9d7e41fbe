import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { AuthenticationException } from '../errors';
import { lostReasonErrorReply } from '../errors/error-reply';
import { LOST_REASON_RESOLVED_OPTIONS } from '../common/lost-reason.constants';
import { ResolvedLostReasonOptions } from '../interfaces/resolved-lost-reason-options.interface';
import { LostReasonApiKeyGuard } from './api-key.guard';
import { registerExpressFallback } from './express.fallback';
import { FastifyLike, registerFastifyFallback } from './fastify.fallback';
import { OwnPath } from './own-path.rule';
import { FallbackAnswer } from './route-fallback.interface';

/**
 * Gives the module's error shape, on its own paths only, to what the HTTP adapter handles
 * outside the module's controller: body-parser failures (malformed JSON, oversized body,
 * unsupported media type) and methods or sub-paths that match no route. Adapters deal with
 * these before or after the route, so the controller's filter never sees them and, left
 * alone, they would reach the host's global filters. The API key is checked first, as the
 * routes do, so a request without valid credentials always learns only that (401).
 * Everything on the host's own paths passes through untouched.
 */
@Injectable()
export class LostReasonRouteFallback implements OnModuleInit {
  private readonly logger = new Logger('LostReasonModule');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly applicationConfig: ApplicationConfig,
    private readonly apiKeyGuard: LostReasonApiKeyGuard,
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    const type = adapter?.getType();
    const ownPath = new OwnPath(this.options.path, this.applicationConfig, type === 'express');
    if (type === 'express') registerExpressFallback(adapter, ownPath, this.answer);
    if (type === 'fastify') registerFastifyFallback(adapter.getInstance<FastifyLike>(), ownPath, this.answer);
  }

  /**
   * The module's answer to `error` on its path: the credentials' problem first, else `error`. A
   * failing key check (a host verifier that throws) is answered and logged here as a 500, like on
   * the routes, rather than handed to the host with a message that might hold the key.
   */
  private readonly answer: FallbackAnswer = async (request, error) => {
    let cause: unknown;
    try {
      cause = (await this.apiKeyGuard.isAuthenticated(request)) ? error : new AuthenticationException();
    } catch (failure) {
      cause = failure;
    }
    return lostReasonErrorReply(cause, request, this.logger);
  };
}
