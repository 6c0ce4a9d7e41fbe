import { ApiProperty } from '../lost-reason.openapi';

/** Confirmation of a permanent delete. */
export class DeletedLostReason {
  @ApiProperty({ description: 'Id of the deleted object.', example: 'opportunity-lost-reason_3f0c9a1e5b7d4c2a8e6f1b3d5a7c9e0f' })
  id!: string;

  @ApiProperty({ type: Boolean, enum: [true], description: 'Always `true`.', example: true })
  deleted!: true;
}
