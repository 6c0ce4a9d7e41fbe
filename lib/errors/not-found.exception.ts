import { NotFoundException } from '@nestjs/common';
import { LostReasonErrorBody } from './error-body.interface';

/** Longest id echoed back in the message; longer ones are not repeated to the caller. */
const MAX_ECHOED_ID_LENGTH = 100;

/** "No such opportunity-lost-reason: '<id>'", without echoing what cannot be an id. */
export const noSuchLostReasonMessage = (id: unknown): string =>
  `No such opportunity-lost-reason${typeof id === 'string' && id.length <= MAX_ECHOED_ID_LENGTH ? `: '${id}'` : ''}`;

/** No opportunity lost reason has this id (HTTP 404, code `resource_missing`). */
export class LostReasonNotFoundException extends NotFoundException {
  constructor(readonly id: string) {
    const body: LostReasonErrorBody = {
      type: 'invalid_request_error',
      message: noSuchLostReasonMessage(id),
      param: 'id',
      code: 'resource_missing',
    };
    super(body);
  }
}
