import { HttpException, HttpStatus } from '@nestjs/common';
import { LostReasonErrorBody } from './error-body.interface';

/**
 * An `Idempotency-Key` that cannot be honoured (`idempotency_error`): reused with other
 * parameters (400), or still in use by a request that has not finished (409, code
 * `idempotency_key_in_use`).
 */
export class IdempotencyException extends HttpException {
  constructor(
    status: HttpStatus.BAD_REQUEST | HttpStatus.CONFLICT,
    message: string,
    readonly code?: string,
  ) {
    const body: LostReasonErrorBody = { type: 'idempotency_error', message, param: 'Idempotency-Key', ...(code && { code }) };
    super(body, status);
  }
}
