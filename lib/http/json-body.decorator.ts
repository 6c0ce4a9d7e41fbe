import { createParamDecorator, ExecutionContext, HttpStatus } from '@nestjs/common';
import { invalidRequestWithStatus } from '../errors';
import { UNSUPPORTED_MEDIA_TYPE_MESSAGE } from '../errors/exception.filter';

/**
 * The JSON request body, in UTF-8. A body in any other content type or charset is refused with 415 rather than
 * read as "no parameters" (Express leaves it unparsed), as a string (Fastify's text/plain),
 * or through a form parser whose quirks (dropping `__proto__[x]` keys, say) would let
 * unknown parameters through unseen.
 */
export const LostReasonBody = createParamDecorator((_: unknown, context: ExecutionContext): unknown => {
  const { body, headers } = context.switchToHttp().getRequest();
  const sentBody = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
  const json = /^application\/json\s*(?:;|$)/i.test(String(headers['content-type'] ?? ''));
  if (sentBody && (!json || !isUtf8Json(headers['content-type']))) {
    throw invalidRequestWithStatus(HttpStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE_MESSAGE);
  }
  return body;
});

/**
 * False when a Content-Type declares a charset other than UTF-8: JSON is UTF-8 (RFC 8259), and
 * Express would decode another charset while Fastify ignores it. Refused on both instead.
 */
export function isUtf8Json(contentType: unknown): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(String(contentType ?? ''))?.[1].toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}
