import { IsOptional } from 'class-validator';
import { LOST_REASON_MAX_LENGTH } from '../lost-reason.constants';
import { IsStorableText } from './is-storable-text.decorator';

/**
 * Parameters of `PATCH /api/crm/opportunity-lost-reason/{id}`. Only the fields passed change;
 * `null` clears a field.
 */
export class UpdateLostReasonDto {
  /** New reason, or `null` to clear it; at most `LOST_REASON_MAX_LENGTH` characters. */
  @IsOptional()
  @IsStorableText(LOST_REASON_MAX_LENGTH)
  lost_reason?: string | null;
}
