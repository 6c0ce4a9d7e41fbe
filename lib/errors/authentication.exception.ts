import { UnauthorizedException } from '@nestjs/common';
import { LostReasonErrorBody } from './error-body.interface';

/**
 * Missing, malformed or unknown API key (HTTP 401). One message for every case, so the
 * answer reveals nothing about which keys exist.
 */
export class AuthenticationException extends UnauthorizedException {
  constructor() {
    const body: LostReasonErrorBody = {
      type: 'authentication_error',
      message: 'Invalid API key provided. Send it as an "Authorization: Bearer <key>" header.',
    };
    super(body);
  }
}
