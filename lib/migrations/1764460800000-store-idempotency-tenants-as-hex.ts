import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

const TABLE = 'opportunity_lost_reason_idempotency';

/**
 * Stores the tenant of each `Idempotency-Key` as `opportunity_lost_reason` stores it: the hex of
 * its UTF-8 bytes, so the tenant id has one form in every table. The column grows to 128
 * characters (64 bytes in hex), and the keys already stored are converted. A key's identity (its
 * `id` digest) does not change, so a retry that straddles the upgrade is still recognised. A
 * column already 128 characters wide (`synchronize` from this version's entity) is left as it is.
 */
export class StoreIdempotencyTenantsAsHex1764460800000 implements MigrationInterface {
  /** Explicit, so the name TypeORM records survives bundlers that rename classes. */
  name = 'StoreIdempotencyTenantsAsHex1764460800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A table `synchronize` built from this version's entity has the wide column already, and
    // holds hex: converting it again would corrupt it. The width tells which form the rows hold.
    const table = await queryRunner.getTable(TABLE);
    if (Number(table?.findColumnByName('tenant_id')?.length) >= 128) return;
    await resize(queryRunner, 128);
    const { type } = queryRunner.connection.driver.options;
    const hex =
      type === 'postgres'
        ? "encode(convert_to(tenant_id, 'UTF8'), 'hex')"
        : type === 'mysql' || type === 'mariadb'
          ? 'LOWER(HEX(CONVERT(tenant_id USING utf8mb4)))'
          : 'lower(hex(tenant_id))';
    await queryRunner.query(`UPDATE ${TABLE} SET tenant_id = ${hex} WHERE tenant_id <> ''`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { type } = queryRunner.connection.driver.options;
    const text =
      type === 'postgres'
        ? "convert_from(decode(tenant_id, 'hex'), 'UTF8')"
        : type === 'mysql' || type === 'mariadb'
          ? 'CONVERT(UNHEX(tenant_id) USING utf8mb4)'
          : 'CAST(unhex(tenant_id) AS TEXT)';
    await queryRunner.query(`UPDATE ${TABLE} SET tenant_id = ${text} WHERE tenant_id <> ''`);
    await resize(queryRunner, 64);
  }
}

/** Sets the column's length, keeping its rows (TypeORM's `changeColumn` drops and adds a column whose length changes, except on SQLite). */
async function resize(queryRunner: QueryRunner, length: number): Promise<void> {
  const { type } = queryRunner.connection.driver.options;
  if (type === 'postgres') {
    await queryRunner.query(`ALTER TABLE "${TABLE}" ALTER COLUMN "tenant_id" TYPE varchar(${length})`);
    return;
  }
  if (type === 'mysql' || type === 'mariadb') {
    await queryRunner.query(`ALTER TABLE \`${TABLE}\` MODIFY \`tenant_id\` varchar(${length}) NOT NULL DEFAULT ''`);
    return;
  }
  // SQLite rebuilds the table, copying its rows.
  const table = await queryRunner.getTable(TABLE);
  const column = table?.findColumnByName('tenant_id');
  if (!table || !column) throw new Error(`${TABLE}.tenant_id not found: run the earlier migrations first.`);
  const resized = column.clone();
  resized.length = String(length);
  await queryRunner.changeColumn(table, column, new TableColumn(resized));
}
