import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * Creates `opportunity_lost_reason` as the `LostReason` entity describes it, on PostgreSQL,
 * MySQL/MariaDB and SQLite alike (TypeORM's schema API writes each dialect).
 *
 * A migration is a snapshot: its values are literals, never the module's constants, so a later
 * change of the entity cannot silently rewrite what was already applied. Such a change ships as
 * a new migration.
 */
export class CreateOpportunityLostReason1764115200000 implements MigrationInterface {
  /** Explicit, so the name TypeORM records survives bundlers that rename classes. */
  name = 'CreateOpportunityLostReason1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'opportunity_lost_reason',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'id', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'varchar', length: '24' },
          { name: 'updated_at', type: 'varchar', length: '24' },
          { name: 'lost_reason', type: 'varchar', length: '500', isNullable: true },
        ],
        indices: [
          { name: 'UQ_opportunity_lost_reason_id', columnNames: ['id'], isUnique: true },
          { name: 'IDX_opportunity_lost_reason_created_at_seq', columnNames: ['created_at', 'seq'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // `ifExist`: reverting still succeeds when the table was already dropped by hand.
    await queryRunner.dropTable('opportunity_lost_reason', true);
  }
}
