import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { LOST_REASON_MAX_LENGTH } from './lost-reason.constants';

/**
 * One opportunity lost reason, as stored.
 *
 * Register it on the host's data source (explicitly in `entities`, or with
 * `autoLoadEntities: true`).
 */
@Entity({ name: 'opportunity_lost_reason' })
export class LostReason {
  /**
   * Internal insertion sequence. It orders the list exactly ("newest first", even within
   * one millisecond) on every database; a random public id cannot. Never exposed.
   */
  @PrimaryGeneratedColumn({ name: 'seq' })
  seq!: number;

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
