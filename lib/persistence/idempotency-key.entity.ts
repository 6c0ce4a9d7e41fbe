import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One `Idempotency-Key` of `POST`, as stored: the request it was first used with and, once that
 * request has finished, its answer (replayed to retries with the same key and body).
 *
 * Register it on the host's data source next to `LostReason` (`LOST_REASON_ENTITIES`, or
 * `autoLoadEntities: true`). Rows are deleted once older than `IDEMPOTENCY_KEY_TTL_MS`.
 */
@Entity({ name: 'opportunity_lost_reason_idempotency' })
@Index('IDX_opportunity_lost_reason_idempotency_created_at', ['created_at'])
export class LostReasonIdempotencyKey {
  /**
   * SHA-256 (hex) of the tenant and the key: the identity of a key. A digest rather than the
   * key itself, so keys compare exactly (case and trailing spaces included) on every database,
   * MySQL/MariaDB's case-insensitive collations too, and the primary key stays short.
   */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  /** The tenant the key belongs to, stored as `LostReason.tenant_id` is (hex of its UTF-8 bytes); `''` for no tenant. */
  @Column({ type: 'varchar', length: 128, default: '' })
  tenant_id!: string;

  /** The key as the client sent it (printable ASCII, at most 255 characters). */
  @Column({ type: 'varchar', length: 255 })
  idempotency_key!: string;

  /** SHA-256 (hex) of the request's parameters as canonical JSON. */
  @Column({ type: 'varchar', length: 64 })
  request_hash!: string;

  /** HTTP status of the stored answer; `null` while the first request is still running. */
  @Column({ type: 'integer', nullable: true })
  status!: number | null;

  /** The stored answer's JSON body; `null` while the first request is still running. */
  @Column({ type: 'text', nullable: true })
  response!: string | null;

  /**
   * When the first request claimed the key: ISO 8601 UTC with milliseconds, as text like
   * `LostReason`'s timestamps. Also the claim's token: a request completes the key only if it
   * still holds its own claim.
   */
  @Column({ type: 'varchar', length: 24 })
  created_at!: string;
}
