import { ApiProperty } from '../common/swagger.loader';
import { LostReasonObject } from './lost-reason-object.dto';

/** One page of the list, newest first. */
export class LostReasonList {
  @ApiProperty({ type: () => [LostReasonObject], description: 'This page, newest first.' })
  data!: LostReasonObject[];

  /** True exactly when more objects exist after this page. */
  @ApiProperty({ description: 'True exactly when more objects exist after this page.', example: false })
  has_more!: boolean;

  /** Number of objects in all pages together. */
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Number of objects in all pages together.', example: 2 })
  total!: number;
}
