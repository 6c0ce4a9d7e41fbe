import { randomBytesFromPool } from '../common/random-bytes.util';

/** Response header carrying the id of the request, Stripe-style, on every answer of the module. */
export const REQUEST_ID_HEADER = 'Request-Id';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 20; // ~119 bits: unique without coordination, unguessable

/** Every request id the module issues has this shape. */
export const REQUEST_ID_PATTERN = /^req_[0-9A-Za-z]{20}$/;

/** A fresh `req_` + 20 base62 characters from the CSPRNG (bytes ≥ 248 are skipped: no modulo bias). */
export function createRequestId(): string {
  let id = 'req_';
  while (id.length < 4 + RANDOM_LENGTH) {
    for (const byte of randomBytesFromPool(32)) {
      if (byte < 248 && id.length < 4 + RANDOM_LENGTH) id += ALPHABET[byte % ALPHABET.length];
    }
  }
  return id;
}

const ids = new WeakMap<object, string>();

/**
 * The id of a request, created on first use and the same afterwards, whoever asks: the
 * request runner (successes), the exception filter (the controller's errors) and the route
 * fallback (adapter-level errors). Keyed by Node's `IncomingMessage`, so Express's request
 * and Fastify's request wrapper (`request.raw`) both resolve to one id. An incoming
 * `Request-Id`/`X-Request-Id` header is ignored, as Stripe does: ids are always the module's.
 */
export function requestIdOf(request: object): string {
  const raw = (request as { raw?: unknown }).raw;
  const key = typeof raw === 'object' && raw !== null && 'headers' in raw ? raw : request;
  let id = ids.get(key);
  if (id === undefined) {
    id = createRequestId();
    ids.set(key, id);
  }
  return id;
}
