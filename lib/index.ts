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
export { LostReasonApiKeyGuard } from './lost-reason-api-key.guard';
export { LostReasonExceptionFilter } from './lost-reason-exception.filter';
export { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './lost-reason-request-id';
export { LostReasonModule } from './lost-reason.module';
export { LostReasonService } from './lost-reason.service';
