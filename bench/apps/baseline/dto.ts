import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class CreateLostReasonDto {
  @IsOptional()
  @IsString()
  @MaxLength(500)
  lost_reason?: string | null;
}

/** `PartialType(CreateLostReasonDto)`, spelled out (every field is already optional). */
export class UpdateLostReasonDto extends CreateLostReasonDto {}

export class ListLostReasonsDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}
