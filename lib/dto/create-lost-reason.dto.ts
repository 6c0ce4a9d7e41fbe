import { IsOptional } from 'class-validator';
import { LOST_REASON_MAX_LENGTH } from '../lost-reason.constants';
import { IsStorableText } from './is-storable-text.decorator';

/** Parameters of `POST /api/crm/opportunity-lost-reason`. Every field is optional. */
export class CreateLostReasonDto {
  /** Why the opportunity was lost; at most `LOST_REASON_MAX_LENGTH` characters. */
  @IsOptional()
  @IsStorableText(LOST_REASON_MAX_LENGTH)
  lost_reason?: string | null;
}
