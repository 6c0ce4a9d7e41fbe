import { LostReasonIdempotencyKey } from './idempotency-key.entity';
import { LostReason } from './lost-reason.entity';

/**
 * Every entity of the module, for hosts that list their entities explicitly
 * (`entities: [...yourEntities, ...LOST_REASON_ENTITIES]`); `autoLoadEntities: true` picks them
 * all up by itself.
 */
export const LOST_REASON_ENTITIES = [LostReason, LostReasonIdempotencyKey] as const;
