import { isRepeatedHeader, RequestHeaders } from '../common/repeated-header.util';
import { InvalidRequestException } from '../errors';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH } from './idempotency.constants';

/** Printable ASCII, space included (HTTP parsers trim it at the ends); the OpenAPI document says so too. */
export const IDEMPOTENCY_KEY_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

const HEADER_NAME = IDEMPOTENCY_KEY_HEADER.toLowerCase();

/**
 * The request's `Idempotency-Key`: `undefined` without the header; a 400 naming the header when
 * it came more than once (Node joins them into one value) or is not 1 to 255 printable ASCII characters.
 */
export function idempotencyKeyOf(request: RequestHeaders): string | undefined {
  const value = request.headers?.[HEADER_NAME];
  if (value === undefined) return undefined;
  if (isRepeatedHeader(request, HEADER_NAME)) {
    throw new InvalidRequestException(`${IDEMPOTENCY_KEY_HEADER} was sent more than once; send one key.`, IDEMPOTENCY_KEY_HEADER);
  }
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new InvalidRequestException(
      `${IDEMPOTENCY_KEY_HEADER} must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters (a UUID, say).`,
      IDEMPOTENCY_KEY_HEADER,
    );
  }
  return value;
}
