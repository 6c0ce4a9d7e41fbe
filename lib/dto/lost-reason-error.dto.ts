import { LostReasonErrorType } from '../exceptions/lost-reason-error-body.interface';
import { ApiProperty } from '../lost-reason.openapi';

const ERROR_TYPES: LostReasonErrorType[] = ['invalid_request_error', 'authentication_error', 'api_error'];

/** The `error` member of an error response (the OpenAPI twin of `LostReasonErrorBody`). */
export class LostReasonErrorDetail {
  @ApiProperty({ enum: ERROR_TYPES, description: 'The kind of error.', example: 'invalid_request_error' })
  type!: LostReasonErrorType;

  @ApiProperty({ description: 'A human-readable explanation.', example: 'limit must not be greater than 100' })
  message!: string;

  @ApiProperty({ required: false, description: 'The request parameter the error is about, when there is one.', example: 'limit' })
  param?: string;

  @ApiProperty({ required: false, description: 'A short machine-readable reason.', example: 'resource_missing' })
  code?: string;
}

/** Body of every error response of the module: `{ "error": { type, message, param?, code? } }`. */
export class LostReasonError {
  @ApiProperty({ type: () => LostReasonErrorDetail })
  error!: LostReasonErrorDetail;
}
