import type { QueryRunner } from 'typeorm';

/**
 * SQLite's count table and triggers for `table`, created if missing, then a recount. The module
 * runs it by itself on SQLite when the table has no count trigger (a host on `synchronize`): one
 * embedded writer, and a `COUNT(*)` there blocks the event loop of every request (80–115 ms at a
 * million rows), so the count is kept whatever the schema mode. The names follow `table` (and its
 * column naming), as the module's statements expect. The same as
 * `CountOpportunityLostReasons1764374400000` sets up on SQLite, kept here as a copy: a shipped
 * migration is a frozen snapshot that nothing but the migrations' index imports.
 */
export async function keepSqliteCounts(
  queryRunner: QueryRunner,
  { table, tenantColumn }: { table: string; tenantColumn: string },
): Promise<void> {
  const q = (name: string) => queryRunner.connection.driver.escape(name);
  const count = `${table}_count`;
  await queryRunner.query(
    `CREATE TABLE IF NOT EXISTS ${q(count)} ("tenant_id" varchar(128) NOT NULL, "shard" integer NOT NULL, "n" integer NOT NULL, PRIMARY KEY ("tenant_id", "shard"))`,
  );
  const add = (tenant: string, delta: string) =>
    `INSERT INTO ${q(count)} ("tenant_id", "shard", "n") VALUES (${tenant}, 0, ${delta}) ON CONFLICT ("tenant_id", "shard") DO UPDATE SET "n" = "n" + (${delta});`;
  const [newTenant, oldTenant] = [`NEW.${q(tenantColumn)}`, `OLD.${q(tenantColumn)}`];
  const trigger = (event: string) => q(`${count}_${event}`);
  await queryRunner.query(`CREATE TRIGGER IF NOT EXISTS ${trigger('insert')} AFTER INSERT ON ${q(table)} BEGIN ${add(newTenant, '1')} END`);
  await queryRunner.query(
    `CREATE TRIGGER IF NOT EXISTS ${trigger('delete')} AFTER DELETE ON ${q(table)} BEGIN ${add(oldTenant, '-1')} END`,
  );
  await queryRunner.query(
    `CREATE TRIGGER IF NOT EXISTS ${trigger('update')} AFTER UPDATE OF ${q(tenantColumn)} ON ${q(table)} WHEN ${newTenant} <> ${oldTenant} ` +
      `BEGIN ${add(oldTenant, '-1')} ${add(newTenant, '1')} END`,
  );
  await recount(queryRunner, q(count), q(table), q(tenantColumn));
}

/** Sets the counts in `count` (quoted) to what `table` holds, per `tenant` column (quoted). */
async function recount(queryRunner: QueryRunner, count: string, table: string, tenant: string): Promise<void> {
  const escape = (name: string) => queryRunner.connection.driver.escape(name);
  // One transaction (unless the caller's): readers never see the counts emptied.
  const own = !queryRunner.isTransactionActive;
  if (own) await queryRunner.startTransaction();
  try {
    await queryRunner.query(`DELETE FROM ${count}`);
    await queryRunner.query(
      `INSERT INTO ${count} (${escape('tenant_id')}, ${escape('shard')}, ${escape('n')}) SELECT ${tenant}, 0, COUNT(*) FROM ${table} GROUP BY ${tenant}`,
    );
    if (own) await queryRunner.commitTransaction();
  } catch (error) {
    if (own) await queryRunner.rollbackTransaction();
    throw error;
  }
}
