import { AbstractHttpAdapter } from '@nestjs/core';
import { NOT_AN_OBJECT_MESSAGE } from '../dto/params.validator';
import { InvalidRequestException } from '../errors';
import { sendErrorReply } from '../errors/error-reply';
import { undecodableBody, unsupportedMediaTypeOf } from './json-content-type.rule';
import { malformedRequest, OwnPath, unknownUrlOf } from './own-path.rule';
import { FallbackAnswer, IncomingRequest } from './route-fallback.interface';

type Next = (error?: unknown) => void;

/**
 * Two Express middlewares, registered after the routes: the first runs when no route matched a
 * request on the module's path (a 404 in the module's shape), the second on errors raised
 * before the route (body-parser failures). Requests on the host's paths pass through untouched.
 */
export function registerExpressFallback(adapter: AbstractHttpAdapter, ownPath: OwnPath, answer: FallbackAnswer): void {
  const reply = async (request: IncomingRequest, response: unknown, error: unknown) => {
    sendErrorReply(adapter, response, await answer(request, error));
  };
  adapter.use((request: IncomingRequest, response: unknown, next: Next) => {
    if (!ownPath.includes(request)) return next();
    reply(request, response, unknownUrlOf(request, false)).catch(next);
  });
  adapter.use((error: unknown, request: IncomingRequest, response: unknown, next: Next) => {
    if (!ownPath.includes(request)) return next(error);
    reply(request, response, malformedRequest(request) ?? asOnFastify(request, error)).catch(next);
  });
}

/** A refusal of Express's body parser, as the module answers the same body on Fastify. */
function asOnFastify(request: IncomingRequest, error: unknown): unknown {
  const { status = 500, type, body, errno } = (error ?? {}) as { status?: number; type?: unknown; body?: unknown; errno?: unknown };
  if (status < 400 || status >= 500) return error;
  // A body in a declared charset other than UTF-8 that the parser refused, or decoded and
  // failed on: a 415, as on Fastify (which refuses the charset before reading).
  const unsupported = unsupportedMediaTypeOf(request.headers, 'parser');
  if (unsupported) return unsupported;
  // Bytes zlib could not inflate (its errors carry an errno; the parser's own carry a type).
  if (type === undefined && typeof errno === 'number') {
    return undecodableBody(String(request.headers['content-encoding']).trim().toLowerCase());
  }
  // JSON that is not an object or an array (1, "x", null), which the strict parser refuses:
  // Fastify parses it, and the parameters' check refuses it.
  if (type === 'entity.parse.failed' && typeof body === 'string' && isJsonText(body))
    return new InvalidRequestException(NOT_AN_OBJECT_MESSAGE);
  return error;
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
