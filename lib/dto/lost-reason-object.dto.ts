/** The public shape of an opportunity lost reason, as every endpoint and the service return it. */
export class LostReasonObject {
  /** `opportunity-lost-reason_` followed by a random part. */
  id!: string;
  /** ISO 8601 UTC with milliseconds, e.g. `2024-01-15T09:30:00.000Z`. */
  created_at!: string;
  /** ISO 8601 UTC with milliseconds; changes on every update. */
  updated_at!: string;
  lost_reason!: string | null;
}
