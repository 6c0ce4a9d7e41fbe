// The module's exceptions and the shape of their body (lib/index.ts picks the public ones).
export { AuthenticationException } from './authentication.exception';
export {
  LostReasonAlreadyExistsException,
  LostReasonConstraintException,
  LostReasonInUseException,
} from './constraint-violation.exception';
export type { LostReasonErrorBody, LostReasonErrorType } from './error-body.interface';
export { IdempotencyException } from './idempotency.exception';
export { InvalidRequestException, invalidRequestWithStatus } from './invalid-request.exception';
export { LostReasonModuleOptionsError } from './module-options.error';
export { LostReasonNotFoundException, noSuchLostReasonMessage } from './not-found.exception';
