import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LostReasonErrorBody } from './exceptions';

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
function clientMessage(exception: unknown, status: number): string {
  const code = (exception as { code?: unknown } | null)?.code;
  if (status === HttpStatus.PAYLOAD_TOO_LARGE) return 'The request body is too large.';
  if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) return UNSUPPORTED_MEDIA_TYPE_MESSAGE;
  if (exception instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return 'The request body is not valid JSON.';
  if (exception instanceof URIError) return 'The request path is not valid percent-encoding.';
  if (status === HttpStatus.UNAUTHORIZED) return 'Invalid API key provided.';
  const response = exception instanceof HttpException ? exception.getResponse() : undefined;
  const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
  return typeof message === 'string' ? message : 'The request could not be processed.';
}

/**
 * Maps any exception to the module's error response. Known client errors keep their status;
 * anything else becomes a 500 `api_error` that says nothing about the cause (no stack, no SQL).
 */
export function toLostReasonErrorResponse(exception: unknown): LostReasonErrorResponse {
  const status = statusOf(exception);
  if (exception instanceof HttpException && isErrorBody(exception.getResponse())) {
    const { type, message, param, code } = exception.getResponse() as LostReasonErrorBody;
    return { status: exception.getStatus(), body: { error: { type, message, ...(param && { param }), ...(code && { code }) } } };
  }
  if (status !== undefined && status < 500) {
    const type = status === HttpStatus.UNAUTHORIZED ? 'authentication_error' : 'invalid_request_error';
    return { status, body: { error: { type, message: clientMessage(exception, status) } } };
  }
  return {
    status: status ?? HttpStatus.INTERNAL_SERVER_ERROR,
    body: { error: { type: 'api_error', message: 'An unexpected error occurred. Please try again later.' } },
  };
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
    const { status, body } = toLostReasonErrorResponse(exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, status);
  }
}
