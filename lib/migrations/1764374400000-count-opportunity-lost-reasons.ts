import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'opportunity_lost_reason';
const COUNT = 'opportunity_lost_reason_count';
/** Counter rows per tenant: concurrent writers mostly touch different rows (see below). */
const SHARDS = 16;

/**
 * Keeps the number of objects per tenant in `opportunity_lost_reason_count`, so a list's exact
 * `total` is a `SUM` over a few rows instead of a `COUNT(*)` over the tenant's whole table
 * (tens of milliseconds at a million rows: bench/MILLION.md).
 *
 * Triggers on the table maintain it inside each writing transaction: a row and its count
 * become visible together, for every writer (the module, the host's own SQL, bulk imports), and
 * the list reads the page and the sum in one statement, one snapshot. Each tenant's count is
 * split over 16 rows chosen by the writing connection, so concurrent writers do not queue on
 * one row lock; a connection always picks the same row, so two writers never lock two counter
 * rows in opposite orders. SQLite has one writer at a time and uses one row.
 *
 * PostgreSQL counts per statement (transition tables: a 10,000-row `INSERT … SELECT` updates the
 * counter once, not 10,000 times) and resets on `TRUNCATE`. MySQL/MariaDB count per row, and
 * `TRUNCATE TABLE` fires no trigger there: use `DELETE`, or `recountLostReasons` after it.
 * Creating triggers on MySQL/MariaDB needs the `TRIGGER` privilege (and with binary logging,
 * `log_bin_trust_function_creators` or `SUPER`).
 *
 * Without this migration (a host on `synchronize`), the module counts with `COUNT(*)`.
 */
export class CountOpportunityLostReasons1764374400000 implements MigrationInterface {
  /** Explicit, so the name TypeORM records survives bundlers that rename classes. */
  name = 'CountOpportunityLostReasons1764374400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { type } = queryRunner.connection.driver.options;
    if (type === 'postgres') return upPostgres(queryRunner, await postgresSchema(queryRunner));
    if (type === 'mysql' || type === 'mariadb') return upMysql(queryRunner);
    return upSqlite(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { type } = queryRunner.connection.driver.options;
    if (type === 'postgres') {
      const schema = await postgresSchema(queryRunner);
      for (const event of ['insert', 'delete', 'update', 'truncate']) {
        await queryRunner.query(`DROP TRIGGER IF EXISTS "${COUNT}_${event}" ON "${schema}"."${TABLE}"`);
      }
      await queryRunner.query(`DROP FUNCTION IF EXISTS "${schema}"."${COUNT}_rows"()`);
      await queryRunner.query(`DROP TABLE IF EXISTS "${schema}"."${COUNT}"`);
      return;
    }
    for (const event of ['insert', 'delete', 'update']) await queryRunner.query(`DROP TRIGGER IF EXISTS ${COUNT}_${event}`);
    await queryRunner.query(`DROP TABLE IF EXISTS ${COUNT}`);
  }
}

/** The schema the module's table is in: every name in the trigger function is qualified with it. */
async function postgresSchema(queryRunner: QueryRunner): Promise<string> {
  const configured = (queryRunner.connection.driver.options as { schema?: string }).schema;
  if (configured) return configured;
  const [{ schema }] = await queryRunner.query('SELECT current_schema() AS schema');
  return schema;
}

async function upPostgres(queryRunner: QueryRunner, schema: string): Promise<void> {
  const table = `"${schema}"."${TABLE}"`;
  const count = `"${schema}"."${COUNT}"`;
  await queryRunner.query(
    `CREATE TABLE ${count} ("tenant_id" varchar(128) NOT NULL, "shard" smallint NOT NULL, "n" bigint NOT NULL, PRIMARY KEY ("tenant_id", "shard"))`,
  );
  // One function for the three row events: the statement's rows per tenant, +1 inserted, -1
  // deleted; an UPDATE changes counts only when it moves objects between tenants.
  const add = (deltas: string) => `
      INSERT INTO ${count} AS c ("tenant_id", "shard", "n")
        SELECT "tenant_id", pg_backend_pid() % ${SHARDS}, SUM("d") FROM (${deltas}) AS deltas
        GROUP BY "tenant_id" HAVING SUM("d") <> 0
        ON CONFLICT ("tenant_id", "shard") DO UPDATE SET "n" = c."n" + EXCLUDED."n";`;
  await queryRunner.query(`
    CREATE OR REPLACE FUNCTION "${schema}"."${COUNT}_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN${add('SELECT "tenant_id", 1 AS "d" FROM new_rows')}
      ELSIF TG_OP = 'DELETE' THEN${add('SELECT "tenant_id", -1 AS "d" FROM old_rows')}
      ELSIF TG_OP = 'UPDATE' THEN${add('SELECT "tenant_id", 1 AS "d" FROM new_rows UNION ALL SELECT "tenant_id", -1 FROM old_rows')}
      ELSE
        DELETE FROM ${count};
      END IF;
      RETURN NULL;
    END $$`);
  const trigger = (event: string, referencing: string) =>
    queryRunner.query(
      `CREATE TRIGGER "${COUNT}_${event.toLowerCase()}" AFTER ${event} ON ${table} ${referencing} ` +
        `FOR EACH STATEMENT EXECUTE FUNCTION "${schema}"."${COUNT}_rows"()`,
    );
  await trigger('INSERT', 'REFERENCING NEW TABLE AS new_rows');
  await trigger('DELETE', 'REFERENCING OLD TABLE AS old_rows');
  await trigger('UPDATE', 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows');
  await trigger('TRUNCATE', '');
  // Under the triggers' table lock (CREATE TRIGGER holds it until this migration commits), so
  // no write can fall between the initial count and the triggers.
  await queryRunner.query(`INSERT INTO ${count} ("tenant_id", "shard", "n") SELECT "tenant_id", 0, COUNT(*) FROM ${table} GROUP BY "tenant_id"`);
}

async function upMysql(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(
    `CREATE TABLE ${COUNT} (tenant_id varchar(128) NOT NULL, shard smallint NOT NULL, n bigint NOT NULL, PRIMARY KEY (tenant_id, shard))`,
  );
  const add = (tenant: string, delta: string) =>
    `INSERT INTO ${COUNT} (tenant_id, shard, n) VALUES (${tenant}, CONNECTION_ID() % ${SHARDS}, ${delta}) ON DUPLICATE KEY UPDATE n = n + (${delta})`;
  await queryRunner.query(`CREATE TRIGGER ${COUNT}_insert AFTER INSERT ON ${TABLE} FOR EACH ROW ${add('NEW.tenant_id', '1')}`);
  await queryRunner.query(`CREATE TRIGGER ${COUNT}_delete AFTER DELETE ON ${TABLE} FOR EACH ROW ${add('OLD.tenant_id', '-1')}`);
  // Compared in the column's own collation, the one the counter's key uses too.
  await queryRunner.query(
    `CREATE TRIGGER ${COUNT}_update AFTER UPDATE ON ${TABLE} FOR EACH ROW ` +
      `BEGIN IF NEW.tenant_id <> OLD.tenant_id THEN ${add('OLD.tenant_id', '-1')}; ${add('NEW.tenant_id', '1')}; END IF; END`,
  );
  // DDL commits on its own here: a write between the trigger and this count would be counted
  // twice. Run it as migrations usually run, before the app serves writes, or recount after.
  await recountLostReasons(queryRunner);
}

async function upSqlite(queryRunner: QueryRunner): Promise<void> {
  await keepSqliteCounts(queryRunner, { table: TABLE, tenantColumn: 'tenant_id' });
}

/**
 * SQLite's count table and triggers for `table`, created if missing, then a recount. The names
 * follow `table` (and its column naming), as the module's statements expect. (For a host on
 * `synchronize`, the SQLite dialect sets up the same with a copy of its own,
 * `persistence/dialects/sqlite-counts.ts`: this migration stays as it shipped.)
 */
export async function keepSqliteCounts(queryRunner: QueryRunner, { table, tenantColumn }: { table: string; tenantColumn: string }): Promise<void> {
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
  await queryRunner.query(`CREATE TRIGGER IF NOT EXISTS ${trigger('delete')} AFTER DELETE ON ${q(table)} BEGIN ${add(oldTenant, '-1')} END`);
  await queryRunner.query(
    `CREATE TRIGGER IF NOT EXISTS ${trigger('update')} AFTER UPDATE OF ${q(tenantColumn)} ON ${q(table)} WHEN ${newTenant} <> ${oldTenant} ` +
      `BEGIN ${add(oldTenant, '-1')} ${add(newTenant, '1')} END`,
  );
  await recount(queryRunner, q(count), q(table), q(tenantColumn));
}

/**
 * Sets the counts kept by `CountOpportunityLostReasons1764374400000` to what the table holds.
 * Needed only after writes the triggers cannot see: `TRUNCATE TABLE` on MySQL/MariaDB, or
 * triggers disabled for a bulk load. Run it without concurrent writers (in a migration of
 * yours, or a maintenance window): a write during the recount may be counted twice or not at all.
 */
export async function recountLostReasons(queryRunner: QueryRunner): Promise<void> {
  const escape = (name: string) => queryRunner.connection.driver.escape(name);
  // Qualified like the migration's own names on PostgreSQL, where the schema may be off the search path.
  const schema = queryRunner.connection.driver.options.type === 'postgres' ? `${escape(await postgresSchema(queryRunner))}.` : '';
  const [count, table] = [COUNT, TABLE].map((name) => schema + escape(name));
  await recount(queryRunner, count, table, escape('tenant_id'));
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
