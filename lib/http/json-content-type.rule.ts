import { HttpException, HttpStatus } from '@nestjs/common';
import { invalidRequestWithStatus } from '../errors';
import { UNSUPPORTED_MEDIA_TYPE_MESSAGE } from '../errors/error-response.mapper';

/** The 415 of a body in another content type or charset. */
export const unsupportedMediaType = (): HttpException =>
  invalidRequestWithStatus(HttpStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE_MESSAGE);

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
