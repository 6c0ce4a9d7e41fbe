// The public API of nestjs-lost-reason: what a host imports. Everything else is internal.

// The module, its options and the service hosts inject.
export { LostReasonModule } from './lost-reason.module';
export type { LostReasonModuleOptionsFactory } from './lost-reason.module-definition';
export * from './interfaces';
export { LostReasonService } from './service/lost-reason.service';
export { getLostReasonServiceToken, InjectLostReasonService } from './service/lost-reason-service.token';
export {
  DEFAULT_LOST_REASON_PATH,
  DEFAULT_REQUEST_TIMEOUT_MS,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  LOST_REASON_DEFAULTS,
  LOST_REASON_ID_PREFIX,
  LOST_REASON_MAX_LENGTH,
} from './common/lost-reason.constants';

// The objects the API and the service answer with, and the parameters they take.
export * from './dto';

// The errors the service throws and the API answers with, and the start-up error of bad options.
export {
  AuthenticationException,
  IdempotencyException,
  InvalidRequestException,
  LostReasonAlreadyExistsException,
  LostReasonConstraintException,
  LostReasonInUseException,
  LostReasonModuleOptionsError,
  LostReasonNotFoundException,
} from './errors';
export type { LostReasonErrorBody, LostReasonErrorType } from './errors';
// The filter that answers errors in the module's shape: the module's routes, and the host's that opt in.
export { LostReasonExceptionFilter } from './errors/exception.filter';

// The schema: entities and migrations.
export { LostReason } from './persistence/lost-reason.entity';
export { LostReasonIdempotencyKey } from './persistence/idempotency-key.entity';
export { LOST_REASON_ENTITIES } from './persistence/lost-reason.entities';
export * from './migrations';

// HTTP headers and shapes clients see.
export {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_LOCK_TIMEOUT_MS,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  IDEMPOTENCY_KEY_TTL_MS,
  IDEMPOTENT_REPLAYED_HEADER,
} from './idempotency/idempotency.constants';
export { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './common/request-id.util';
