import { ApiProperty } from '../common/swagger.loader';

/** Confirmation of a permanent delete. */
export class DeletedLostReason {
  @ApiProperty({ description: 'Id of the deleted object.', example: 'opportunity-lost-reason_3f0c9a1e5b7d4c2a8e6f1b3d5a7c9e0f' })
  id!: string;

  // `enum: [true]` (OpenAPI 3.0 has no `const`); @nestjs/swagger 7 (NestJS 10 hosts) types an enum
  // of booleans as a number, so the type is set again over it.
  @ApiProperty({ type: Boolean })
  @ApiProperty({ enum: [true], description: 'Always `true`.', example: true })
  deleted!: true;
}
