import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LostReasonErrorRequest } from './error-log.formatter';
import { lostReasonErrorReply, sendErrorReply } from './error-reply';
import { markAnsweredByModule } from './module-answer.marker';

/**
 * Answers any exception in the module's error shape, `{ "error": { type, message, param?, code?,
 * request_id } }` with a `Request-Id` header (Stripe's), on Express and Fastify; a 5xx's cause is
 * logged with the request's id, never answered. The module binds it to its own controller only, so
 * the host's other routes keep the host's filters; a host binds it to its own HTTP routes to answer
 * them in the same shape (the module's exceptions thrown there keep their status, `param` and `code`):
 *
 * ```ts
 * @UseFilters(LostReasonExceptionFilter) // one controller
 * export class OpportunitiesController {}
 *
 * providers: [{ provide: APP_FILTER, useClass: LostReasonExceptionFilter }] // every route of the app
 * app.useGlobalFilters(new LostReasonExceptionFilter(app.get(HttpAdapterHost))) // or so, in main.ts
 * ```
 *
 * HTTP only: bound globally in an app that also serves GraphQL or microservices, it would catch
 * their errors too; bind it per controller there.
 */
@Catch()
export class LostReasonExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('LostReasonModule');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<LostReasonErrorRequest>();
    const reply = lostReasonErrorReply(exception, request, this.logger);
    markAnsweredByModule(request);
    sendErrorReply(this.adapterHost.httpAdapter, http.getResponse(), reply);
  }
}
