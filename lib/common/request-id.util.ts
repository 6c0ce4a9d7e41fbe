import { randomBase62 } from './random-bytes.util';

/** Response header carrying the id of the request, Stripe-style, on every answer of the module. */
export const REQUEST_ID_HEADER = 'Request-Id';

const RANDOM_LENGTH = 20; // ~119 bits: unique without coordination, unguessable

/** Every request id the module issues has this shape. */
export const REQUEST_ID_PATTERN = /^req_[0-9A-Za-z]{20}$/;

/** A fresh `req_` + 20 base62 characters from the CSPRNG. */
export const createRequestId = (): string => 'req_' + randomBase62(RANDOM_LENGTH);

/** Where a request's id is kept: on Node's request object itself (cheaper than a WeakMap on every request). */
const REQUEST_ID = Symbol('lostReasonRequestId');

type WithRequestId = { [REQUEST_ID]?: string };

/**
 * The id of a request, created on first use and the same afterwards, whoever asks: the
 * request runner (successes), the exception filter (the controller's errors) and the route
 * fallback (adapter-level errors). Kept on Node's `IncomingMessage`, so Express's request
 * and Fastify's request wrapper (`request.raw`) both resolve to one id. An incoming
 * `Request-Id`/`X-Request-Id` header is ignored, as Stripe does: ids are always the module's.
 */
export function requestIdOf(request: object): string {
  const raw = (request as { raw?: unknown }).raw;
  const key = (typeof raw === 'object' && raw !== null && 'headers' in raw ? raw : request) as WithRequestId;
  return (key[REQUEST_ID] ??= createRequestId());
}
