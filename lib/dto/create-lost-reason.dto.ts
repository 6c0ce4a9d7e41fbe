import { IsOptional } from 'class-validator';
import { LOST_REASON_MAX_LENGTH } from '../common/lost-reason.constants';
import { ApiProperty, ApiSchemaKeywords } from '../common/swagger.loader';
import { IsStorableText, STORABLE_TEXT_PATTERN } from './is-storable-text.decorator';

/** Parameters of `POST /api/crm/opportunity-lost-reason`. Every field is optional; unknown ones are refused. */
@ApiSchemaKeywords({ additionalProperties: false })
export class CreateLostReasonDto {
  /** Why the opportunity was lost; at most `LOST_REASON_MAX_LENGTH` characters. */
  @ApiProperty({
    required: false,
    type: String,
    nullable: true,
    maxLength: LOST_REASON_MAX_LENGTH,
    pattern: STORABLE_TEXT_PATTERN,
    description: `Why the opportunity was lost. Omit it or pass null for none. At most ${LOST_REASON_MAX_LENGTH} Unicode code points; no NUL, U+FFFD or unpaired surrogate.`,
    example: 'Price too high',
  })
  @IsOptional()
  @IsStorableText(LOST_REASON_MAX_LENGTH)
  lost_reason?: string | null;
}
