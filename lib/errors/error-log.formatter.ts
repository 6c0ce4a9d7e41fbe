import { pathOf } from '../common/url-path.util';
import { redactCredentials } from './credentials.redactor';

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
