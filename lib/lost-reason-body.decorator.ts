import { createParamDecorator, ExecutionContext, HttpStatus } from '@nestjs/common';
import { InvalidRequestException } from './exceptions';

/**
 * The parsed request body. A body the adapter did not parse (a content type other than JSON
 * or form-encoded) is refused with 415, rather than read as "no parameters" and ignored.
 */
export const LostReasonBody = createParamDecorator((_: unknown, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest();
  const sentBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if (request.body === undefined && sentBody) {
    throw new InvalidRequestException(
      'Send parameters as application/json or application/x-www-form-urlencoded.',
      undefined,
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    );
  }
  return request.body;
});
