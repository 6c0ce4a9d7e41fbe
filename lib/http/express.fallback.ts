import { AbstractHttpAdapter } from '@nestjs/core';
import { errorHeaders } from '../errors/error-response.mapper';
import { isUtf8Json, unsupportedMediaType } from './json-content-type.rule';
import { OwnPath, unrecognizedRequestUrl } from './own-path.rule';
import { FallbackAnswer, IncomingRequest } from './route-fallback.interface';

type Next = (error?: unknown) => void;

/**
 * Two Express middlewares, registered after the routes: the first runs when no route matched a
 * request on the module's path (a 404 in the module's shape), the second on errors raised
 * before the route (body-parser failures). Requests on the host's paths pass through untouched.
 */
export function registerExpressFallback(adapter: AbstractHttpAdapter, ownPath: OwnPath, answer: FallbackAnswer): void {
  const reply = async (request: IncomingRequest, response: unknown, error: unknown) => {
    const { status, body, requestId } = await answer(request, error);
    for (const [name, value] of errorHeaders(status, requestId)) adapter.setHeader(response, name, value);
    adapter.reply(response, body, status);
  };
  adapter.use((request: IncomingRequest, response: unknown, next: Next) => {
    if (!ownPath.includes(request)) return next();
    reply(request, response, unrecognizedRequestUrl(request)).catch(next);
  });
  adapter.use((error: unknown, request: IncomingRequest, response: unknown, next: Next) => {
    if (!ownPath.includes(request)) return next(error);
    // A body in a declared charset other than UTF-8 that the parser refused, or decoded and
    // failed on: a 415, as on Fastify (which refuses the charset before reading).
    const status = (error as { status?: number })?.status ?? 500;
    const charsetFailure = status >= 400 && status < 500 && !isUtf8Json(request.headers['content-type']);
    reply(request, response, charsetFailure ? unsupportedMediaType() : error).catch(next);
  });
}
