import { HttpStatus } from '@nestjs/common';
import { Readable } from 'node:stream';
import { isAnsweredByModule } from '../errors/module-answer.marker';
import { decodedBody, knownEncoding } from './fastify-body.decoder';
import { unsupportedMediaTypeOf } from './json-content-type.rule';
import { OwnPath, unknownUrlOf } from './own-path.rule';
import { FallbackAnswer, IncomingRequest } from './route-fallback.interface';

/** The few Fastify members used here (fastify is the host's dependency, not the module's). */
export interface FastifyLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
  initialConfig?: { bodyLimit?: number };
}
interface FastifyRequestLike extends IncomingRequest {
  routeOptions?: { bodyLimit?: number; url?: string };
  [OWN_ERROR]?: unknown;
}
interface FastifyReplyLike {
  statusCode: number;
  code(status: number): unknown;
  header(name: string, value: string): unknown;
}

/** Fastify's own default, for a version that tells neither limit. */
const DEFAULT_FASTIFY_BODY_LIMIT = 1024 * 1024;
/** The error Fastify's handler got for a request on the module's path. */
const OWN_ERROR = Symbol('lostReasonError');

type Done = (error: unknown, value?: unknown) => void;

/**
 * Fastify hooks, added before it is ready so they run on every route. `preParsing` checks and
 * decodes the body as Express's parser would; errors reach Fastify's error handler (Nest's, then
 * the host's filters), so the module notes them in `onError` and rewrites what is sent for its
 * own paths in `onSend`, unless its exception filter answered already. Callback hooks, not async
 * ones: they run on every request of the host, and an async hook costs a promise each.
 */
export function registerFastifyFallback(fastify: FastifyLike, ownPath: OwnPath, answer: FallbackAnswer): void {
  const bodyLimitOf = (request: FastifyRequestLike) =>
    request.routeOptions?.bodyLimit ?? fastify.initialConfig?.bodyLimit ?? DEFAULT_FASTIFY_BODY_LIMIT;

  fastify.addHook('preParsing', (request: FastifyRequestLike, _reply: unknown, payload: Readable, done: Done) => {
    let checked: Readable;
    try {
      checked = ownPath.includes(request) ? checkedBody(request, payload, bodyLimitOf(request)) : payload;
    } catch (error) {
      return done(error);
    }
    done(null, checked);
  });
  fastify.addHook('onError', (request: FastifyRequestLike, _reply: unknown, error: unknown, done: Done) => {
    if (ownPath.includes(request)) request[OWN_ERROR] = error;
    done(null);
  });
  fastify.addHook('onSend', (request: FastifyRequestLike, reply: FastifyReplyLike, payload: unknown, done: Done) => {
    if (reply.statusCode < 400 || !ownPath.includes(request) || isAnsweredByModule(request)) return done(null, payload);
    // An error answer on the module's path (rare): a promise of the new payload, which Fastify
    // waits for and whose failure, wherever it comes from, it handles.
    return rewrite(request, reply);
  });

  async function rewrite(request: FastifyRequestLike, reply: FastifyReplyLike): Promise<string> {
    // No route matched: Stripe's 404, as on Express, also where Fastify refused the request before
    // looking for one (a QUERY without a Content-Type is a 400 there); a 404 with no error of its
    // own is Fastify's "no route" too.
    const error = request[OWN_ERROR];
    const unrouted = request.routeOptions !== undefined && request.routeOptions.url === undefined;
    const routed = !unrouted && ((error !== undefined && error !== null) || reply.statusCode !== HttpStatus.NOT_FOUND);
    const cause = routed ? (error ?? { statusCode: reply.statusCode }) : unknownUrlOf(request, false);
    const { status, headers, body } = await answer(request, cause);
    reply.code(status);
    for (const [name, value] of headers) reply.header(name, value);
    reply.header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(body);
  }
}

/**
 * The body of a request on the module's path, checked as Express's body parser checks it, and
 * only when it would: for a request that announces a body (a length, even 0, or chunks).
 */
function checkedBody(request: FastifyRequestLike, payload: Readable, limit: number): Readable {
  const { headers } = request;
  const chunked = headers['transfer-encoding'] !== undefined;
  if (!chunked && headers['content-length'] === undefined) {
    // No body at all (curl -H "Content-Type: application/json" without -d): no parameters, as on
    // Express; Fastify would parse the nothing it announces as JSON and refuse it.
    delete headers['content-type'];
    return payload;
  }
  // Refused before Fastify's parser reads the bytes as UTF-8 anyway (the route would say 415 too).
  const unsupported = unsupportedMediaTypeOf(headers, 'parser');
  if (unsupported) throw unsupported;
  const encoding = knownEncoding(headers['content-encoding']);
  if (!chunked && Number(headers['content-length']) === 0) {
    // Fastify rejects "Content-Type: application/json" with an empty body; the API treats
    // it as "no parameters", as on Express.
    if (encoding === 'identity') {
      delete headers['content-type'];
      return payload;
    }
    // Whether nothing is valid compressed data is zlib's to say, as on Express (it is not, but
    // for zstd on Node 22); with no length, Fastify does not compare the '{}' read with 0.
    delete headers['content-length'];
  }
  return decodedBody(payload, encoding, chunked, limit);
}
