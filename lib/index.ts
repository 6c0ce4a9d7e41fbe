export * from './dto';
export * from './errors';
export * from './interfaces';
export * from './migrations';
export {
  DEFAULT_LOST_REASON_PATH,
  DEFAULT_REQUEST_TIMEOUT_MS,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  LOST_REASON_ID_PREFIX,
  LOST_REASON_MAX_LENGTH,
} from './lost-reason.constants';
export { LostReason } from './persistence/lost-reason.entity';
export { LostReasonIdempotencyKey } from './idempotency/idempotency-key.entity';
export { LOST_REASON_ENTITIES } from './persistence/lost-reason.entities';
export {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_LOCK_TIMEOUT_MS,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  IDEMPOTENCY_KEY_TTL_MS,
  IDEMPOTENT_REPLAYED_HEADER,
} from './idempotency/idempotency.service';
export { LostReasonApiKeyGuard } from './http/api-key.guard';
export { LostReasonExceptionFilter } from './errors/exception.filter';
export { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './http/request-id.util';
export { LostReasonModule } from './lost-reason.module';
export { LostReasonService } from './lost-reason.service';
