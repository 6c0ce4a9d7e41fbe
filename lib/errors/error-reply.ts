import { Logger } from '@nestjs/common';
import { requestIdOf } from '../common/request-id.util';
import { LostReasonErrorRequest, lostReasonErrorLogLine } from './error-log.formatter';
import { errorHeaders, LostReasonErrorResponse, toLostReasonErrorResponse } from './error-response.mapper';

/** An error answer of the module: its status, its headers and Stripe's body. */
export interface LostReasonErrorReply extends LostReasonErrorResponse {
  /** `Request-Id`, and `Retry-After` on a 503 (`errorHeaders`). */
  headers: Array<[string, string]>;
}

/** The two members of Nest's HTTP adapter (Express or Fastify) that send an answer. */
export interface ReplyingAdapter {
  setHeader(response: unknown, name: string, value: string): unknown;
  reply(response: unknown, body: unknown, status?: number): unknown;
}

/**
 * The module's error reply to `error` on `request`: the one used by its exception filter and by
 * both adapters' fallbacks. A 5xx's cause is logged with the request's id, never answered; a
 * message passed on never repeats the request's credentials.
 */
export function lostReasonErrorReply(error: unknown, request: LostReasonErrorRequest, logger: Logger): LostReasonErrorReply {
  const requestId = requestIdOf(request);
  const { status, body } = toLostReasonErrorResponse(error, requestId, request.headers?.authorization);
  if (status >= 500) logger.error(lostReasonErrorLogLine(request, requestId, error));
  return { status, body, headers: errorHeaders(status, requestId) };
}

/** Sends `reply` through Nest's HTTP adapter: the filter's and Express's fallback's way (Fastify's `onSend` returns the payload instead). */
export function sendErrorReply(adapter: ReplyingAdapter, response: unknown, { status, headers, body }: LostReasonErrorReply): void {
  for (const [name, value] of headers) adapter.setHeader(response, name, value);
  adapter.reply(response, body, status);
}
