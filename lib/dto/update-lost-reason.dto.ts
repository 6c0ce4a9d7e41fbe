import { IsOptional } from 'class-validator';
import { LOST_REASON_MAX_LENGTH } from '../common/lost-reason.constants';
import { ApiProperty, ApiSchemaKeywords } from '../common/swagger.loader';
import { IsStorableText, STORABLE_TEXT_PATTERN } from './is-storable-text.decorator';

/**
 * Parameters of `PATCH /api/crm/opportunity-lost-reason/{id}`. Only the fields passed change;
 * `null` clears a field. Unknown parameters are refused.
 */
@ApiSchemaKeywords({ additionalProperties: false })
export class UpdateLostReasonDto {
  /** New reason, or `null` to clear it; at most `LOST_REASON_MAX_LENGTH` characters. */
  @ApiProperty({
    required: false,
    type: String,
    nullable: true,
    maxLength: LOST_REASON_MAX_LENGTH,
    pattern: STORABLE_TEXT_PATTERN,
    description: `New reason, or null to clear it. Omit it to leave it unchanged. At most ${LOST_REASON_MAX_LENGTH} Unicode code points; no NUL, U+FFFD or unpaired surrogate.`,
    example: 'Price too high',
  })
  @IsOptional()
  @IsStorableText(LOST_REASON_MAX_LENGTH)
  lost_reason?: string | null;
}
