// The public API of nestjs-lost-reason: what a host imports, named one by one. Everything else is
// internal. lib/index.spec.ts lists these names: an export added or removed here fails it.

// The module, its options and the service hosts inject (one token per data source).
export { LostReasonModule } from './lost-reason.module';
export type { LostReasonModuleOptionsFactory } from './lost-reason.module-definition';
export type {
  LostReasonApiKeyVerifier,
  LostReasonHookContext,
  LostReasonHooks,
  LostReasonModuleExtras,
  LostReasonModuleOptions,
  LostReasonTenantResolver,
} from './interfaces/lost-reason-module-options.interface';
export { LostReasonService } from './service/lost-reason.service';
export { getLostReasonServiceToken, InjectLostReasonService } from './service/lost-reason-service.token';

// The defaults of the options, and the limits of the API that clients see.
export {
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  LOST_REASON_DEFAULTS,
  LOST_REASON_ID_PREFIX,
  LOST_REASON_MAX_LENGTH,
} from './common/lost-reason.constants';

// The objects the API and the service answer with, the parameters they take, and the body of
// every error answer (one type: `LostReasonError`, also the OpenAPI schema of errors).
export {
  CreateLostReasonDto,
  DeletedLostReason,
  ListLostReasonsDto,
  LostReasonError,
  LostReasonList,
  LostReasonObject,
  UpdateLostReasonDto,
} from './dto';

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
// The filter that answers errors in the module's shape: the module's routes, and the host's that opt in.
export { LostReasonExceptionFilter } from './errors/exception.filter';

// The schema: entities (to list in a data source and to read the table from your own code;
// write through LostReasonService only: see docs/migrations-and-counts.md) and migrations.
export { LostReason } from './persistence/lost-reason.entity';
export { LostReasonIdempotencyKey } from './persistence/idempotency-key.entity';
export { LOST_REASON_ENTITIES } from './persistence/lost-reason.entities';
export {
  AddTenantToOpportunityLostReason1764201600000,
  assignUntenantedLostReasons,
  CountOpportunityLostReasons1764374400000,
  CreateOpportunityLostReason1764115200000,
  CreateOpportunityLostReasonIdempotency1764288000000,
  LOST_REASON_MIGRATIONS,
  recountLostReasons,
  ShardCountsByNode1764547200000,
  StoreIdempotencyTenantsAsHex1764460800000,
  unassignLostReasons,
} from './migrations';

// HTTP headers and shapes clients see.
export { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENT_REPLAYED_HEADER } from './idempotency/idempotency.constants';
export { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './common/request-id.util';
