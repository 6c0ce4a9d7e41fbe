import { HttpException, HttpStatus } from '@nestjs/common';
import { invalidRequestWithStatus } from '../errors';
import { INVALID_JSON_MESSAGE, UNSUPPORTED_MEDIA_TYPE_MESSAGE } from '../errors/error-response.mapper';

/** Whether a request announces a body: a length above 0, or chunks. */
export const announcesBody = (headers: Record<string, unknown>): boolean =>
  Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;

/**
 * The 415 of a request's body, or undefined: the one rule of both adapters. The module takes
 * JSON in UTF-8 (RFC 8259) and nothing else. Where the body is read:
 * - `'parser'`: by the adapter's parser, before the route (Express's refused it, Fastify's is about
 *   to read it): the charset decides there, as the parser reads the bytes by it;
 * - `'route'`: by the route, for a request that announces a body (a length above 0, or chunks):
 *   its content type and its charset. Express leaves a body of another type unparsed, Fastify
 *   reads text as a string: refused on both rather than read as "no parameters".
 */
export function unsupportedMediaTypeOf(headers: Record<string, unknown>, readBy: 'parser' | 'route'): HttpException | undefined {
  const contentType = headers['content-type'];
  const supported =
    readBy === 'parser' ? isUtf8Json(contentType) : !announcesBody(headers) || (isJson(contentType) && isUtf8Json(contentType));
  return supported ? undefined : invalidRequestWithStatus(HttpStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE_MESSAGE);
}

/** The 400 of a body that does not inflate per its `Content-Encoding` (`encoding`, in lower case). */
export const undecodableBody = (encoding: string): HttpException =>
  invalidRequestWithStatus(HttpStatus.BAD_REQUEST, `The body is not valid ${encoding} data.`);

/** Whether a Content-Type is JSON (`application/json`, with or without parameters). */
export const isJson = (contentType: unknown): boolean => /^application\/json\s*(?:;|$)/i.test(String(contentType ?? ''));

/**
 * False when a Content-Type declares a charset other than UTF-8: JSON is UTF-8 (RFC 8259), and
 * Express would decode another charset while Fastify ignores it. Refused on both instead.
 */
export function isUtf8Json(contentType: unknown): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(String(contentType ?? ''))?.[1].toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/**
 * The 400 of a parsed body with a key Fastify's parser refuses (secure-json-parse's defaults): an
 * own `__proto__`, or a `constructor` holding a `prototype`, at any depth. Express's parser keeps
 * them; refused on both, with the message of a body Fastify's parser refused.
 */
export function unsafeKeyRefusal(body: unknown): HttpException | undefined {
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Object.hasOwn(value, '__proto__')) return invalidRequestWithStatus(HttpStatus.BAD_REQUEST, INVALID_JSON_MESSAGE);
    const { constructor } = value as { constructor?: unknown };
    if (
      Object.hasOwn(value, 'constructor') &&
      typeof constructor === 'object' &&
      constructor !== null &&
      Object.hasOwn(constructor, 'prototype')
    ) {
      return invalidRequestWithStatus(HttpStatus.BAD_REQUEST, INVALID_JSON_MESSAGE);
    }
    // One at a time: spread as arguments, a large array (a body under Fastify's 1 MiB) overflows the stack.
    for (const member of Object.values(value)) pending.push(member);
  }
  return undefined;
}
