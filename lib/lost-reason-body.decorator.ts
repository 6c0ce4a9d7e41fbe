import { createParamDecorator, ExecutionContext, HttpStatus } from '@nestjs/common';
import { invalidRequestWithStatus } from './exceptions';
import { UNSUPPORTED_MEDIA_TYPE_MESSAGE } from './lost-reason-exception.filter';

/**
 * The JSON request body. A body in any other content type is refused with 415 rather than
 * read as "no parameters" (Express leaves it unparsed), as a string (Fastify's text/plain),
 * or through a form parser whose quirks (dropping `__proto__[x]` keys, say) would let
 * unknown parameters through unseen.
 */
export const LostReasonBody = createParamDecorator((_: unknown, context: ExecutionContext): unknown => {
  const { body, headers } = context.switchToHttp().getRequest();
  const sentBody = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
  const json = /^application\/json\s*(?:;|$)/i.test(String(headers['content-type'] ?? ''));
  if (sentBody && !json) throw invalidRequestWithStatus(HttpStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE_MESSAGE);
  return body;
});
