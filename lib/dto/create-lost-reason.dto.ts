import { IsOptional } from 'class-validator';
import { LOST_REASON_MAX_LENGTH } from '../lost-reason.constants';
import { ApiProperty } from '../common/swagger.loader';
import { IsStorableText } from './is-storable-text.decorator';

/** Parameters of `POST /api/crm/opportunity-lost-reason`. Every field is optional. */
export class CreateLostReasonDto {
  /** Why the opportunity was lost; at most `LOST_REASON_MAX_LENGTH` characters. */
  @ApiProperty({
    required: false,
    type: String,
    nullable: true,
    maxLength: LOST_REASON_MAX_LENGTH,
    description: `Why the opportunity was lost. Omit it or pass null for none. At most ${LOST_REASON_MAX_LENGTH} Unicode code points.`,
    example: 'Price too high',
  })
  @IsOptional()
  @IsStorableText(LOST_REASON_MAX_LENGTH)
  lost_reason?: string | null;
}
