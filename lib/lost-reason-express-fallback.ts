import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InvalidRequestException } from './exceptions';
import { LOST_REASON_RESOLVED_OPTIONS } from './lost-reason.constants';
import { toLostReasonErrorResponse } from './lost-reason-exception.filter';
import { ResolvedLostReasonOptions } from './lost-reason.options';

interface ExpressRequest {
  method: string;
  path: string;
}

/**
 * Gives the module's error shape to what happens on its paths outside its controller, on
 * Express: body-parser failures (malformed JSON, oversized body), undecodable paths, and
 * methods or sub-paths that match no route. Express handles these before or after the
 * routes, so the controller's filter never sees them; by default they would reach the host's
 * global filters. Registered once the routes are, this middleware answers only for the
 * module's own paths and passes everything of the host's through untouched.
 */
@Injectable()
export class LostReasonExpressFallback implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'express') return;
    // The resource's paths under any global prefix or version segment.
    const escaped = this.options.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const ownPath = new RegExp(`/${escaped}(?:/.*)?$`);
    const reply = (response: unknown, error: unknown) => {
      const { status, body } = toLostReasonErrorResponse(error);
      adapter.reply(response, body, status);
    };
    adapter.use((request: ExpressRequest, response: unknown, next: () => void) => {
      if (!ownPath.test(request.path)) return next();
      reply(response, new InvalidRequestException(`Unrecognized request URL (${request.method}: ${request.path}).`, undefined, 404));
    });
    adapter.use((error: unknown, request: ExpressRequest, response: unknown, next: (error: unknown) => void) => {
      if (!ownPath.test(request.path)) return next(error);
      reply(response, error);
    });
  }
}
