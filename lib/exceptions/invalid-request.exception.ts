import { HttpException, HttpStatus } from '@nestjs/common';
import { LostReasonErrorBody } from './lost-reason-error-body.interface';

/** A request parameter is missing, malformed or not allowed (HTTP 400 unless said otherwise). */
export class InvalidRequestException extends HttpException {
  constructor(
    message: string,
    /** The offending parameter, e.g. `lost_reason` or `limit`. */
    readonly param?: string,
    status: number = HttpStatus.BAD_REQUEST,
  ) {
    const body: LostReasonErrorBody = { type: 'invalid_request_error', message, param };
    super(body, status);
  }
}
