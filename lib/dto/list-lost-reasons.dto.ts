import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { LIST_LIMIT_MAX } from '../common/lost-reason.constants';

/** Query strings arrive as text: only plain decimal digits become numbers ("1e1", "0x10" stay invalid). */
const digitsToNumber = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** Parameters of `GET /api/crm/opportunity-lost-reason`. */
export class ListLostReasonsDto {
  /** Page size, 1 to `LIST_LIMIT_MAX`; defaults to `LIST_LIMIT_DEFAULT`. */
  @IsOptional()
  @Transform(digitsToNumber)
  @Min(1)
  @Max(LIST_LIMIT_MAX)
  @IsInt() // last, so it is checked first: "must be an integer" before any bound
  limit?: number;

  /**
   * Number of objects to skip, newest first; defaults to 0. Not with `starting_after` or
   * `ending_before`.
   */
  @IsOptional()
  @Transform(digitsToNumber)
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  @IsInt() // last, so it is checked first
  offset?: number;

  /** Cursor: the page of objects listed right after (older than) this object id. */
  @IsOptional()
  @IsString()
  starting_after?: string;

  /** Cursor: the page of objects listed right before (newer than) this object id. */
  @IsOptional()
  @IsString()
  ending_before?: string;
}
