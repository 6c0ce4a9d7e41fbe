import { LOST_REASON_MAX_LENGTH } from '../common/lost-reason.constants';
import { ApiProperty } from '../common/swagger.loader';

/** The public shape of an opportunity lost reason, as every endpoint and the service return it. */
export class LostReasonObject {
  /** `opportunity-lost-reason_` followed by a random part. */
  @ApiProperty({
    description: '`opportunity-lost-reason_` followed by 32 hexadecimal digits.',
    pattern: '^opportunity-lost-reason_[0-9a-f]{32}$',
    example: 'opportunity-lost-reason_3f0c9a1e5b7d4c2a8e6f1b3d5a7c9e0f',
  })
  id!: string;

  /** ISO 8601 UTC with milliseconds, e.g. `2024-01-15T09:30:00.000Z`. */
  @ApiProperty({ format: 'date-time', description: 'Creation time, ISO 8601 UTC with milliseconds.', example: '2026-01-15T09:30:00.000Z' })
  created_at!: string;

  /** ISO 8601 UTC with milliseconds; changes on every update. */
  @ApiProperty({
    format: 'date-time',
    description: 'Last update time, ISO 8601 UTC with milliseconds.',
    example: '2026-01-15T09:30:00.000Z',
  })
  updated_at!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: LOST_REASON_MAX_LENGTH,
    description: 'Why the opportunity was lost, or `null`.',
    example: 'Price too high',
  })
  lost_reason!: string | null;
}
