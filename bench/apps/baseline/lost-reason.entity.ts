import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Same table and columns as the module's entity, so every server reads the same seeded rows. */
@Entity({ name: 'opportunity_lost_reason' })
export class LostReason {
  @PrimaryGeneratedColumn({ name: 'seq' })
  seq!: number;

  @Index('UQ_opportunity_lost_reason_id', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 24 })
  created_at!: string;

  @Column({ type: 'varchar', length: 24 })
  updated_at!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  lost_reason!: string | null;
}
