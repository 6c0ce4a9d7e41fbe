import type { LostReasonErrorBody, LostReasonErrorType } from '../errors/error-body.interface';
import { ApiProperty } from '../common/swagger.loader';

const ERROR_TYPES: LostReasonErrorType[] = ['invalid_request_error', 'authentication_error', 'idempotency_error', 'api_error'];

/**
 * Every `code` the module answers with: `resource_missing` (a 404 for an id, a 400 for a cursor),
 * `resource_in_use` and `resource_already_exists` (400s of the host's constraints on the table),
 * `idempotency_key_in_use` (the 409 of an `Idempotency-Key` whose first request runs).
 */
const ERROR_CODES = ['resource_missing', 'resource_in_use', 'resource_already_exists', 'idempotency_key_in_use'] as const;

/**
 * The `error` member of an error response: the body the module's exceptions carry, with the
 * `request_id` every answer adds (the internal `LostReasonErrorBody` with its OpenAPI schema).
 */
export class LostReasonErrorDetail implements LostReasonErrorBody {
  @ApiProperty({ enum: ERROR_TYPES, description: 'The kind of error.', example: 'invalid_request_error' })
  type!: LostReasonErrorType;

  @ApiProperty({ description: 'A human-readable explanation.', example: 'limit must not be greater than 100' })
  message!: string;

  @ApiProperty({ required: false, description: 'The request parameter the error is about, when there is one.', example: 'limit' })
  param?: string;

  @ApiProperty({ required: false, enum: ERROR_CODES, description: 'A short machine-readable reason.', example: 'resource_missing' })
  code?: string;

  @ApiProperty({
    description:
      "Id of the request, also sent as the `Request-Id` header and written in the module's log lines about it: quote it when reporting a problem.",
    example: 'req_8UVbsdl3TxVRXnQ2c0Fa',
    pattern: '^req_[0-9A-Za-z]{20}$',
  })
  request_id!: string;
}

/**
 * Body of every error response of the module, `{ "error": { type, message, param?, code?,
 * request_id } }`: the one public type of an error answer, and its OpenAPI schema.
 */
export class LostReasonError {
  @ApiProperty({ type: () => LostReasonErrorDetail })
  error!: LostReasonErrorDetail;
}
