import { createParamDecorator, ExecutionContext, HttpStatus } from '@nestjs/common';
import { InvalidRequestException } from './exceptions';
import { UNSUPPORTED_MEDIA_TYPE_MESSAGE } from './lost-reason-exception.filter';

/**
 * The parsed request body. A body the adapter did not parse (a content type other than JSON
 * or form-encoded) is refused with 415, rather than read as "no parameters" and ignored.
 */
export const LostReasonBody = createParamDecorator((_: unknown, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest();
  const { body, headers } = request;
  const sentBody = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
  const json = /^application\/json\b/i.test(String(headers['content-type'] ?? ''));
  // Express leaves such a body unparsed; Fastify reads text/plain as a string. (A string
  // under application/json is a JSON string: the service rejects it as not an object.)
  const unparsed = body === undefined ? sentBody : (typeof body === 'string' || Buffer.isBuffer(body)) && !json;
  if (unparsed) {
    throw new InvalidRequestException(UNSUPPORTED_MEDIA_TYPE_MESSAGE, undefined, HttpStatus.UNSUPPORTED_MEDIA_TYPE);
  }
  return body;
});
