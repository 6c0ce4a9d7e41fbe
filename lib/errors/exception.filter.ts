import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TimeoutError } from 'rxjs';
import { LostReasonErrorBody } from '.';
import { redactCredentials, REQUEST_ID_HEADER, requestIdOf } from '../http/request-id.util';
import { pathOf } from '../http/own-path.rule';

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
export const UNSUPPORTED_MEDIA_TYPE_MESSAGE = 'Send the parameters as a JSON object in UTF-8, with Content-Type: application/json.';

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
  const fault = status === undefined ? databaseFaultOf(exception) : undefined;
  if (fault !== undefined) {
    return { status: HttpStatus.SERVICE_UNAVAILABLE, error: { type: 'api_error', message: DATABASE_FAULT_MESSAGES[fault] } };
  }
  return {
    status: status ?? HttpStatus.INTERNAL_SERVER_ERROR,
    error: { type: 'api_error', message: 'An unexpected error occurred. Please try again later.' },
  };
}

/** What a 503 says: the database could not be reached, or did not answer in time. */
export const DATABASE_FAULT_MESSAGES = {
  unavailable: 'The database is unavailable; retry.',
  timeout: 'The database did not answer in time; retry.',
} as const;

/** `Retry-After` (seconds) of the module's 503 answers. */
export const RETRY_AFTER_SECONDS = '1';

type DatabaseFault = keyof typeof DATABASE_FAULT_MESSAGES;

/**
 * Codes of a connection that failed, could not be made or was refused (pg, mysql2, Node's
 * sockets): the request may succeed once the database is back.
 */
const UNAVAILABLE_CODES = new Set<string | number>([
  // Node sockets, under both drivers
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  // mysql2 / MySQL / MariaDB
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  // PostgreSQL SQLSTATE: class 08 (connection exception), shutdown, too many connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08007',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/**
 * Codes of a statement the database gave up on: the host's statement or lock timeouts, and the
 * rollback that breaks a deadlock or a serialization conflict (a retry succeeds).
 */
const TIMEOUT_CODES = new Set<string | number>([
  '57014', // PostgreSQL query_canceled (statement_timeout)
  '55P03', // PostgreSQL lock_not_available (lock_timeout)
  'ER_LOCK_WAIT_TIMEOUT', // innodb_lock_wait_timeout
  'ER_STATEMENT_TIMEOUT', // MariaDB max_statement_time
  'ER_QUERY_TIMEOUT', // MySQL max_execution_time
  '40P01', // PostgreSQL deadlock_detected
  '40001', // PostgreSQL serialization_failure
  'ER_LOCK_DEADLOCK', // InnoDB deadlock
]);

/** Driver errors without a code: pg's and pg-pool's connection failures, mysql2's closed connection. */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Can't add new command when connection is in closed state)/;
const TIMEOUT_MESSAGE = /^Query read timeout$/; // pg's client-side query_timeout

/**
 * Whether `exception` is a database fault worth a 503 rather than a 500: the module's request
 * deadline (rxjs `TimeoutError`), a connection-level driver error, or a statement timeout,
 * also when wrapped (TypeORM's `QueryFailedError.driverError`, `cause`, `AggregateError`).
 */
function databaseFaultOf(exception: unknown): DatabaseFault | undefined {
  if (exception instanceof TimeoutError) return 'timeout';
  const seen = new Set<unknown>();
  const pending: unknown[] = [exception];
  while (pending.length > 0 && seen.size < 16) {
    const error = pending.shift();
    if (typeof error !== 'object' || error === null || seen.has(error)) continue;
    seen.add(error);
    const { code, message, driverError, cause, errors } = error as Record<string, unknown>;
    if (typeof code === 'string' || typeof code === 'number') {
      if (UNAVAILABLE_CODES.has(code)) return 'unavailable';
      if (TIMEOUT_CODES.has(code)) return 'timeout';
    }
    if (typeof message === 'string') {
      if (UNAVAILABLE_MESSAGE.test(message)) return 'unavailable';
      if (TIMEOUT_MESSAGE.test(message)) return 'timeout';
    }
    pending.push(driverError, cause, ...(Array.isArray(errors) ? errors : []));
  }
  return undefined;
}

/**
 * Maps any exception to the module's error response, carrying the request's id. Known client
 * errors keep their status; a database that cannot be reached or did not answer in time (the
 * request deadline, a lost or refused connection, a statement timeout) becomes a 503
 * `api_error` to retry; anything else becomes a 500 `api_error`. Neither says anything about
 * the cause (no stack, no SQL, no connection string). A host exception's message passed on to the client never repeats the
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
  const path = pathOf(String(request.originalUrl ?? request.url ?? ''));
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
    if (status === HttpStatus.SERVICE_UNAVAILABLE) adapter.setHeader(http.getResponse(), 'Retry-After', RETRY_AFTER_SECONDS);
    adapter.reply(http.getResponse(), body, status);
  }
}
