import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LostReasonErrorBody } from './exceptions';
import { redactCredentials, REQUEST_ID_HEADER, requestIdOf } from './lost-reason-request-id';

/** An error as the module answers it: a status and Stripe's `{ error: { ... } }` body. */
export interface LostReasonErrorResponse {
  status: number;
  body: { error: LostReasonErrorBody };
}

const isErrorBody = (value: unknown): value is LostReasonErrorBody =>
  typeof value === 'object' && value !== null && 'type' in value && 'message' in value;

/** Status of a non-Nest HTTP error, such as body-parser's `PayloadTooLargeError`. */
function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const status = (exception as { status?: unknown } | null)?.status ?? (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

/** Why a body was refused for its content type. */
export const UNSUPPORTED_MEDIA_TYPE_MESSAGE = 'Send the parameters as a JSON object, with Content-Type: application/json.';

/** Client-facing text of a 4xx that the module did not raise itself (body parser, host guard…). */
function clientMessage(exception: unknown, status: number, authorization: unknown): string {
  const code = (exception as { code?: unknown } | null)?.code;
  if (status === HttpStatus.PAYLOAD_TOO_LARGE) return 'The request body is too large.';
  if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) return UNSUPPORTED_MEDIA_TYPE_MESSAGE;
  if (exception instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return 'The request body is not valid JSON.';
  if (exception instanceof URIError) return 'The request path is not valid percent-encoding.';
  if (status === HttpStatus.UNAUTHORIZED) return 'Invalid API key provided.';
  const response = exception instanceof HttpException ? exception.getResponse() : undefined;
  const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
  // A host's exception text: it must not repeat the request's credentials.
  return typeof message === 'string' ? redactCredentials(message, authorization) : 'The request could not be processed.';
}

/** Status and error body, without the request's id. */
function classify(exception: unknown, authorization: unknown): { status: number; error: LostReasonErrorBody } {
  const status = statusOf(exception);
  if (exception instanceof HttpException && isErrorBody(exception.getResponse())) {
    const { type, message, param, code } = exception.getResponse() as LostReasonErrorBody;
    return { status: exception.getStatus(), error: { type, message, ...(param && { param }), ...(code && { code }) } };
  }
  if (status !== undefined && status < 500) {
    const type = status === HttpStatus.UNAUTHORIZED ? 'authentication_error' : 'invalid_request_error';
    return { status, error: { type, message: clientMessage(exception, status, authorization) } };
  }
  return {
    status: status ?? HttpStatus.INTERNAL_SERVER_ERROR,
    error: { type: 'api_error', message: 'An unexpected error occurred. Please try again later.' },
  };
}

/**
 * Maps any exception to the module's error response, carrying the request's id. Known client
 * errors keep their status; anything else becomes a 500 `api_error` that says nothing about the
 * cause (no stack, no SQL). A host exception's message passed on to the client never repeats the
 * request's credentials (`authorization`: its `Authorization` header).
 */
export function toLostReasonErrorResponse(exception: unknown, requestId: string, authorization?: unknown): LostReasonErrorResponse {
  const { status, error } = classify(exception, authorization);
  return { status, body: { error: { ...error, request_id: requestId } } };
}

/** The parts of a Node/Express/Fastify request the module reads to answer and log an error. */
export interface LostReasonErrorRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * The module's error log line: `[req_…] GET /path failed: <stack>`. The path is logged without
 * its query string, and the text without the request's credentials.
 */
export function lostReasonErrorLogLine(request: LostReasonErrorRequest, requestId: string, exception: unknown): string {
  const path = String(request.originalUrl ?? request.url ?? '').split('?', 1)[0];
  const cause = exception instanceof Error ? (exception.stack ?? String(exception)) : String(exception);
  return `[${requestId}] ${redactCredentials(`${request.method ?? '?'} ${path} failed: ${cause}`, request.headers?.authorization)}`;
}

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
    adapter.setHeader(http.getResponse(), REQUEST_ID_HEADER, requestId);
    adapter.reply(http.getResponse(), body, status);
  }
}
