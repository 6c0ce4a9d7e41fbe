import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { LOST_REASON_MAX_LENGTH } from '../common/lost-reason.constants';

/**
 * One opportunity lost reason, as stored.
 *
 * Register it on the host's data source (explicitly in `entities`, or with
 * `autoLoadEntities: true`).
 */
@Entity({ name: 'opportunity_lost_reason' })
@Index('IDX_opportunity_lost_reason_tenant_created_at_seq', ['tenant_id', 'created_at', 'seq'])
export class LostReason {
  /**
   * Internal insertion sequence: it breaks ties between objects created in the same
   * millisecond, so the list order ("newest first", by `created_at` then `seq` within a
   * tenant, served by the index above) is exact on every database. Never exposed.
   */
  @PrimaryGeneratedColumn({ name: 'seq' })
  seq!: number;

  /**
   * The tenant the object belongs to, as `storedTenantId` writes it (hex of its UTF-8 bytes);
   * `''` for no tenant. Every query filters on it, and it leads the index that serves the
   * list order. Never exposed.
   */
  @Column({ type: 'varchar', length: 128, default: '' })
  tenant_id!: string;

  /** Public id: `opportunity-lost-reason_` followed by 128 random bits in hex. */
  @Index('UQ_opportunity_lost_reason_id', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  id!: string;

  /**
   * ISO 8601 UTC with milliseconds. Stored as text so the value is identical on every
   * database and never shifted by a server's or driver's time zone.
   */
  @Column({ type: 'varchar', length: 24 })
  created_at!: string;

  /** ISO 8601 UTC with milliseconds; see `created_at`. */
  @Column({ type: 'varchar', length: 24 })
  updated_at!: string;

  @Column({ type: 'varchar', length: LOST_REASON_MAX_LENGTH, nullable: true })
  lost_reason!: string | null;
}
