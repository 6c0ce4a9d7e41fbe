import { InvalidRequestException } from '../errors';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH } from './idempotency.constants';

/** Printable ASCII, space included (HTTP parsers trim it at the ends); the OpenAPI document says so too. */
export const IDEMPOTENCY_KEY_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

/**
 * The request's `Idempotency-Key`: `undefined` without the header; a 400 naming the header when
 * it is not 1 to 255 printable ASCII characters.
 */
export function idempotencyKeyOf(request: { headers?: Record<string, unknown> }): string | undefined {
  const value = request.headers?.[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new InvalidRequestException(
      `${IDEMPOTENCY_KEY_HEADER} must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters (a UUID, say).`,
      IDEMPOTENCY_KEY_HEADER,
    );
  }
  return value;
}
