import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * Creates `opportunity_lost_reason_idempotency`, where `POST` keeps its `Idempotency-Key`s and
 * the answers replayed for them (the `LostReasonIdempotencyKey` entity).
 */
export class CreateOpportunityLostReasonIdempotency1764288000000 implements MigrationInterface {
  /** Explicit, so the name TypeORM records survives bundlers that rename classes. */
  name = 'CreateOpportunityLostReasonIdempotency1764288000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'opportunity_lost_reason_idempotency',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '64', default: "''" },
          { name: 'idempotency_key', type: 'varchar', length: '255' },
          { name: 'request_hash', type: 'varchar', length: '64' },
          { name: 'status', type: 'integer', isNullable: true },
          { name: 'response', type: 'text', isNullable: true },
          { name: 'created_at', type: 'varchar', length: '24' },
        ],
        indices: [{ name: 'IDX_opportunity_lost_reason_idempotency_created_at', columnNames: ['created_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('opportunity_lost_reason_idempotency', true);
  }
}
