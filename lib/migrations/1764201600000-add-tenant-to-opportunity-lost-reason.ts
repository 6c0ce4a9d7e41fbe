import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

const TABLE = 'opportunity_lost_reason';

/**
 * Adds `tenant_id` (`''` for every existing object: tenancy off) and makes it lead the index
 * that serves the list order, so a tenant's page reads only that tenant's rows.
 */
export class AddTenantToOpportunityLostReason1764201600000 implements MigrationInterface {
  /** Explicit, so the name TypeORM records survives bundlers that rename classes. */
  name = 'AddTenantToOpportunityLostReason1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(TABLE, new TableColumn({ name: 'tenant_id', type: 'varchar', length: '128', default: "''" }));
    await queryRunner.dropIndex(TABLE, 'IDX_opportunity_lost_reason_created_at_seq');
    await queryRunner.createIndex(
      TABLE,
      new TableIndex({ name: 'IDX_opportunity_lost_reason_tenant_created_at_seq', columnNames: ['tenant_id', 'created_at', 'seq'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex(TABLE, 'IDX_opportunity_lost_reason_tenant_created_at_seq');
    await queryRunner.createIndex(TABLE, new TableIndex({ name: 'IDX_opportunity_lost_reason_created_at_seq', columnNames: ['created_at', 'seq'] }));
    await queryRunner.dropColumn(TABLE, 'tenant_id');
  }
}
