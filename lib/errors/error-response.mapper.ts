import { HttpException, HttpStatus } from '@nestjs/common';
import { REQUEST_ID_HEADER } from '../common/request-id.util';
import { redactCredentials } from './credentials.redactor';
import { databaseFaultOf } from '../persistence/database-fault.classifier';
import { LostReasonErrorBody } from './error-body.interface';

/** An error as the module answers it: a status and Stripe's `{ error: { ... } }` body. */
export interface LostReasonErrorResponse {
  status: number;
  body: { error: LostReasonErrorBody };
}

/** What a 503 says: the database could not be reached, or did not answer in time. */
export const DATABASE_FAULT_MESSAGES = {
  unavailable: 'The database is unavailable; retry.',
  timeout: 'The database did not answer in time; retry.',
} as const;

/** `Retry-After` (seconds) of the module's 503 answers. */
export const RETRY_AFTER_SECONDS = '1';

/** Why a body was refused for its content type. */
export const UNSUPPORTED_MEDIA_TYPE_MESSAGE = 'Send the parameters as a JSON object in UTF-8, with Content-Type: application/json.';

/**
 * Why a JSON body was refused by the parser: not JSON, or (Fastify's parser, and the module's
 * check on Express) a key that could reach an object's prototype. Fastify's error does not say
 * which, so one message says both.
 */
export const INVALID_JSON_MESSAGE =
  'The request body is not valid JSON, or has a "__proto__" key or a "constructor" key holding a "prototype" (refused as unsafe).';

/** The headers of every error answer of the module: its request's id, and `Retry-After` on a 503. */
export function errorHeaders(status: number, requestId: string): Array<[string, string]> {
  const headers: Array<[string, string]> = [[REQUEST_ID_HEADER, requestId]];
  if (status === HttpStatus.SERVICE_UNAVAILABLE) headers.push(['Retry-After', RETRY_AFTER_SECONDS]);
  return headers;
}

const isErrorBody = (value: unknown): value is LostReasonErrorBody =>
  typeof value === 'object' && value !== null && 'type' in value && 'message' in value;

/** Status of a non-Nest HTTP error, such as body-parser's `PayloadTooLargeError`. */
function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const status = (exception as { status?: unknown } | null)?.status ?? (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

/** Client-facing text of a 4xx that the module did not raise itself (body parser, host guard…). */
function clientMessage(exception: unknown, status: number, authorization: unknown): string {
  const code = (exception as { code?: unknown } | null)?.code;
  if (status === HttpStatus.PAYLOAD_TOO_LARGE) return 'The request body is too large.';
  if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) return UNSUPPORTED_MEDIA_TYPE_MESSAGE;
  if (exception instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return INVALID_JSON_MESSAGE;
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
  const fault = status === undefined ? databaseFaultOf(exception) : undefined;
  if (fault !== undefined) {
    return { status: HttpStatus.SERVICE_UNAVAILABLE, error: { type: 'api_error', message: DATABASE_FAULT_MESSAGES[fault] } };
  }
  return {
    status: status ?? HttpStatus.INTERNAL_SERVER_ERROR,
    error: { type: 'api_error', message: 'An unexpected error occurred. Please try again later.' },
  };
}

/**
 * Maps any exception to the module's error response, carrying the request's id. Known client
 * errors keep their status; a database that cannot be reached or did not answer in time (the
 * request deadline, a lost or refused connection, a statement timeout) becomes a 503
 * `api_error` to retry; anything else becomes a 500 `api_error`. Neither says anything about
 * the cause (no stack, no SQL, no connection string). A host exception's message passed on to
 * the client never repeats the request's credentials (`authorization`: its `Authorization` header).
 */
export function toLostReasonErrorResponse(exception: unknown, requestId: string, authorization?: unknown): LostReasonErrorResponse {
  const { status, error } = classify(exception, authorization);
  return { status, body: { error: { ...error, request_id: requestId } } };
}
