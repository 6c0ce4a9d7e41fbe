import { DataSource, QueryRunner } from 'typeorm';
import { keepSqliteCounts as keepCountsAsMigrated } from '../../migrations/1764374400000-count-opportunity-lost-reasons';
import { keepSqliteCounts } from './sqlite-counts';

/** The dialect's copy of the count set-up builds exactly what the shipped migration builds on SQLite. */
describe("SQLite's count set-up", () => {
  async function schemaBuiltBy(keep: (runner: QueryRunner, table: { table: string; tenantColumn: string }) => Promise<void>) {
    const dataSource = await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize();
    try {
      await dataSource.query('CREATE TABLE "opportunity_lost_reason" ("id" varchar PRIMARY KEY, "tenant_id" varchar NOT NULL)');
      await dataSource.query(`INSERT INTO "opportunity_lost_reason" VALUES ('a', 't1'), ('b', 't1'), ('c', 't2')`);
      const runner = dataSource.createQueryRunner();
      await keep(runner, { table: 'opportunity_lost_reason', tenantColumn: 'tenant_id' }).finally(() => runner.release());
      return {
        schema: await dataSource.query("SELECT type, name, sql FROM sqlite_master WHERE name LIKE '%_count%' ORDER BY name"),
        counts: await dataSource.query('SELECT tenant_id, shard, n FROM "opportunity_lost_reason_count" ORDER BY tenant_id'),
      };
    } finally {
      await dataSource.destroy();
    }
  }

  it('builds what the migration builds: table, triggers and counts alike', async () => {
    const copy = await schemaBuiltBy(keepSqliteCounts);
    expect(copy.counts).toEqual([
      { tenant_id: 't1', shard: 0, n: 2 },
      { tenant_id: 't2', shard: 0, n: 1 },
    ]);
    expect(copy).toEqual(await schemaBuiltBy(keepCountsAsMigrated));
  });
});
