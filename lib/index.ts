export * from './dto';
export * from './exceptions';
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
export { LostReason } from './lost-reason.entity';
export { LostReasonIdempotencyKey } from './lost-reason-idempotency-key.entity';
export { LOST_REASON_ENTITIES } from './lost-reason-entities';
export {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_LOCK_TIMEOUT_MS,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  IDEMPOTENCY_KEY_TTL_MS,
  IDEMPOTENT_REPLAYED_HEADER,
} from './lost-reason-idempotency';
export { LostReasonApiKeyGuard } from './lost-reason-api-key.guard';
export { LostReasonExceptionFilter } from './lost-reason-exception.filter';
export { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './lost-reason-request-id';
export { LostReasonModule } from './lost-reason.module';
export { LostReasonService } from './lost-reason.service';
