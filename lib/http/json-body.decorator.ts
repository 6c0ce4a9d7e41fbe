import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { unsafeKeyRefusal, unsupportedMediaTypeOf } from './json-content-type.rule';

/**
 * The JSON request body, in UTF-8. A body in any other content type or charset is refused with
 * 415 rather than read as "no parameters" (Express leaves it unparsed), as a string (Fastify's
 * text/plain), or through a form parser whose quirks (dropping `__proto__[x]` keys, say) would
 * let unknown parameters through unseen.
 */
export const LostReasonBody = createParamDecorator((_: unknown, context: ExecutionContext): unknown => {
  const { body, headers } = context.switchToHttp().getRequest();
  const refusal = unsupportedMediaTypeOf(headers, 'route') ?? unsafeKeyRefusal(body);
  if (refusal) throw refusal;
  return body;
});
