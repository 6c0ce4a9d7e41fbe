import { BadRequestException } from '@nestjs/common';
import { LostReasonErrorBody } from './lost-reason-error-body.interface';

/** A request parameter is missing, malformed or not allowed (HTTP 400). */
export class InvalidRequestException extends BadRequestException {
  constructor(
    message: string,
    /** The offending parameter, e.g. `lost_reason` or `limit`. */
    readonly param?: string,
  ) {
    const body: LostReasonErrorBody = { type: 'invalid_request_error', message, param };
    super(body);
  }
}
