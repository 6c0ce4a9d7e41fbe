import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { requestIdOf } from '../http/request-id.util';
import { LostReasonErrorRequest, lostReasonErrorLogLine } from './error-log.formatter';
import { errorHeaders, toLostReasonErrorResponse } from './error-response.mapper';
import { markAnsweredByModule } from './module-answer.marker';

/**
 * Renders every error of the module's routes in Stripe's shape. Bound to the module's
 * controller only, so the host's other routes keep the host's own filters.
 */
@Catch()
export class LostReasonExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('LostReasonModule');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<LostReasonErrorRequest>();
    const requestId = requestIdOf(request);
    const { status, body } = toLostReasonErrorResponse(exception, requestId, request.headers?.authorization);
    if (status >= 500) this.logger.error(lostReasonErrorLogLine(request, requestId, exception));
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of errorHeaders(status, requestId)) adapter.setHeader(http.getResponse(), name, value);
    markAnsweredByModule(request);
    adapter.reply(http.getResponse(), body, status);
  }
}
