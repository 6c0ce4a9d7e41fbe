import { BadRequestException, HttpException, HttpExceptionOptions } from '@nestjs/common';
import { LostReasonErrorBody } from './error-body.interface';

/** A request parameter is missing, malformed or not allowed (HTTP 400). */
export class InvalidRequestException extends BadRequestException {
  constructor(
    message: string,
    /** The offending parameter, e.g. `lost_reason` or `limit`. */
    readonly param?: string,
    /** A short machine-readable reason, e.g. `resource_missing` for an unknown cursor id. */
    readonly code?: string,
    /** `cause`: the error behind it (e.g. the database's), for the host's logs; never sent to the client. */
    options?: HttpExceptionOptions,
  ) {
    const body: LostReasonErrorBody = { type: 'invalid_request_error', message, param, code };
    super(body, options);
  }
}

/** An `invalid_request_error` with another status than 400 (an unknown route: 404; a media type: 415). */
export const invalidRequestWithStatus = (status: number, message: string): HttpException =>
  new HttpException({ type: 'invalid_request_error', message } satisfies LostReasonErrorBody, status);
