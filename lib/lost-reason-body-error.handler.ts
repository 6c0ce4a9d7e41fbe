import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LOST_REASON_RESOLVED_OPTIONS } from './lost-reason.constants';
import { toLostReasonErrorResponse } from './lost-reason-exception.filter';
import { ResolvedLostReasonOptions } from './lost-reason.options';

/**
 * Gives body-parser failures (malformed JSON, oversized body) on the module's routes the
 * module's error shape. Express parses bodies before any route, so such errors never reach
 * the controller's filter; Nest hands them to the host's global filters instead. This
 * error middleware sits between the routes and Nest's handler, and passes every error
 * of the host's own routes through untouched.
 */
@Injectable()
export class LostReasonBodyErrorHandler implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'express') return;
    // Matches the resource's routes under any global prefix or version segment.
    const escaped = this.options.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const ownRoute = new RegExp(`/${escaped}(?:/[^/]*)?/?$`);
    adapter.use((error: unknown, request: { path: string }, response: unknown, next: (error: unknown) => void) => {
      if (!ownRoute.test(request.path)) return next(error);
      const { status, body } = toLostReasonErrorResponse(error);
      adapter.reply(response, body, status);
    });
  }
}
