import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { StatementLog } from './support/statement-log';
import {
  assignUntenantedLostReasons,
  CountOpportunityLostReasons1764374400000,
  LOST_REASON_ENTITIES,
  LOST_REASON_MIGRATIONS,
  LostReason,
  LostReasonService,
  recountLostReasons,
} from '../lib';
import { storedTenantId } from '../lib/tenancy/tenant-id.util';
import { DATABASES, describeEach, dropModuleSchema, testedDatabases } from './support/databases';

/**
 * The count table of `CountOpportunityLostReasons1764374400000`: the list's `total` reads it,
 * and its triggers keep it equal to `COUNT(*)` per tenant whoever writes: the service, the
 * host's own SQL (bulk inserts, deletes, tenant moves), concurrent writers, rolled-back
 * transactions, `TRUNCATE`.
 */
describeEach(testedDatabases())('counts kept by triggers (migrated schema)', (db) => {
  const log = new StatementLog();
  // SQLite in a file, not in memory: one test opens a second data source on the same database.
  const sqliteFile = join(tmpdir(), `lost-reason-counts-${process.pid}.sqlite`);
  const connection = (): DataSourceOptions =>
    db === 'sqlite' ? { type: 'better-sqlite3', database: sqliteFile } : (DATABASES[db] as DataSourceOptions);
  let dataSource: DataSource;
  let service: LostReasonService;
  const tenants = ['acme', 'globex'];

  /** Per stored tenant id: [what the count table says, what COUNT(*) says]. */
  async function countsOf(tenant: string): Promise<[number, number]> {
    const stored = storedTenantId(tenant);
    const [{ kept }] = await dataSource.query(
      `SELECT COALESCE(SUM(n), 0) AS kept FROM opportunity_lost_reason_count WHERE tenant_id = ${dataSource.driver.createParameter('t', 0)}`,
      [stored],
    );
    const actual = await dataSource.getRepository(LostReason).countBy({ tenant_id: stored });
    return [Number(kept), actual];
  }

  async function expectExact(expected: Record<string, number>): Promise<void> {
    for (const [tenant, count] of Object.entries(expected)) {
      expect(await countsOf(tenant)).toEqual([count, count]);
      expect((await service.forTenant(tenant).list({ limit: 1 })).total).toBe(count);
    }
  }

  /** Host SQL inserting `n` objects for `tenant` in one statement. */
  async function bulkInsert(tenant: string, n: number): Promise<void> {
    const rows = Array.from(
      { length: n },
      (_, i) =>
        `('${storedTenantId(tenant)}', 'opportunity-lost-reason_bulk${tenant}${i}${'0'.repeat(20)}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
    );
    await dataSource.query(`INSERT INTO opportunity_lost_reason (tenant_id, id, created_at, updated_at) VALUES ${rows.join(', ')}`);
  }

  beforeAll(async () => {
    await dropModuleSchema(db);
    rmSync(sqliteFile, { force: true });
    dataSource = await new DataSource({
      ...connection(),
      entities: [...LOST_REASON_ENTITIES],
      migrations: LOST_REASON_MIGRATIONS,
      migrationsRun: true,
      logging: true,
      logger: log,
    } as DataSourceOptions).initialize();
    service = new LostReasonService(dataSource.getRepository(LostReason), undefined, { multiTenant: true });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await dropModuleSchema(db);
    rmSync(sqliteFile, { force: true });
  });

  it('lists with the kept count, not a COUNT(*) of the table', async () => {
    await service.forTenant('acme').create({ lost_reason: 'x' });
    log.statements = [];
    await service.forTenant('acme').list();
    await service.forTenant('acme').list({ offset: 5 }); // past the end: the count on its own
    const [first] = (await service.forTenant('acme').list()).data;
    await service.forTenant('acme').list({ starting_after: first.id });
    const lists = log.statements.filter((s) => /SELECT/i.test(s));
    expect(lists.length).toBeGreaterThanOrEqual(4);
    expect(lists.some((s) => /COUNT\(/i.test(s))).toBe(false);
    expect(lists.filter((s) => s.includes('opportunity_lost_reason_count')).length).toBeGreaterThanOrEqual(3);
  });

  it("stays exact through the service's writes, the host's bulk SQL, concurrent writers and tenant moves", async () => {
    await dataSource.query('DELETE FROM opportunity_lost_reason');
    await expectExact({ acme: 0, globex: 0 });

    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) => service.forTenant(tenants[i % 2]).create({ lost_reason: `r${i}` })),
    );
    await expectExact({ acme: 15, globex: 15 });

    await Promise.all(created.slice(0, 10).map((object, i) => service.forTenant(tenants[i % 2]).delete(object.id)));
    await expectExact({ acme: 10, globex: 10 });

    await bulkInsert('acme', 40);
    await expectExact({ acme: 50, globex: 10 });

    await dataSource.query(
      `DELETE FROM opportunity_lost_reason WHERE tenant_id = '${storedTenantId('acme')}' AND id LIKE 'opportunity-lost-reason_bulk%'`,
    );
    await expectExact({ acme: 10, globex: 10 });

    // Objects stored without a tenant move to one (the single-tenant → tenancy path).
    await dataSource.query(`UPDATE opportunity_lost_reason SET tenant_id = '' WHERE tenant_id = '${storedTenantId('globex')}'`);
    await expectExact({ acme: 10, globex: 0 });
    const runner = dataSource.createQueryRunner();
    await assignUntenantedLostReasons(runner, 'globex').finally(() => runner.release());
    await expectExact({ acme: 10, globex: 10 });

    // Updates that do not move objects leave the counts alone.
    const [kept] = (await service.forTenant('acme').list({ limit: 1 })).data;
    await service.forTenant('acme').update(kept.id, { lost_reason: 'changed' });
    await expectExact({ acme: 10, globex: 10 });
  });

  it('follows a rolled-back transaction: nothing counted', async () => {
    await dataSource
      .transaction(async (manager) => {
        await service.withManager(manager).forTenant('acme').create({ lost_reason: 'rolled back' });
        throw new Error('rollback');
      })
      .catch(() => undefined);
    await expectExact({ acme: 10, globex: 10 });
  });

  it(
    db === 'mariadb' ? 'after TRUNCATE (no trigger fires), recountLostReasons repairs it' : 'resets on TRUNCATE; recountLostReasons agrees',
    async () => {
      await dataSource.query(db === 'sqlite' ? 'DELETE FROM opportunity_lost_reason' : 'TRUNCATE TABLE opportunity_lost_reason');
      if (db === 'mariadb') expect(await countsOf('acme')).toEqual([10, 0]); // the documented caveat
      // The recount repairs MariaDB, and elsewhere leaves exact counts exact.
      const runner = dataSource.createQueryRunner();
      await recountLostReasons(runner).finally(() => runner.release());
      await expectExact({ acme: 0, globex: 0 });
      await service.forTenant('globex').create();
      await expectExact({ acme: 0, globex: 1 });
    },
  );

  it('is not trusted without its triggers: a table created again by synchronize counts with COUNT(*)', async () => {
    // The module's table dropped and created again (its triggers go with it); the count table stays.
    await dataSource.query('DROP TABLE opportunity_lost_reason');
    await dataSource.synchronize();
    const fresh = await new DataSource({ ...connection(), entities: [...LOST_REASON_ENTITIES] } as DataSourceOptions).initialize();
    try {
      const stale = new LostReasonService(fresh.getRepository(LostReason), undefined, { multiTenant: true });
      await stale.forTenant('acme').create();
      expect((await stale.forTenant('acme').list()).total).toBe(1);
      expect((await stale.forTenant('globex').list()).total).toBe(0);
    } finally {
      await fresh.destroy();
    }
    // Back to the migrated schema for the next test.
    await dataSource.query('DELETE FROM opportunity_lost_reason');
    await undoCountMigration();
    await dataSource.runMigrations();
    await service.forTenant('globex').create();
  });

  /** Reverts the migrations down to and including the count migration (later ones first). */
  async function undoCountMigration(): Promise<void> {
    const later = LOST_REASON_MIGRATIONS.length - LOST_REASON_MIGRATIONS.indexOf(CountOpportunityLostReasons1764374400000);
    for (let i = 0; i < later; i++) await dataSource.undoLastMigration();
  }

  it('the migration reverts and re-applies, counting the rows already there', async () => {
    await bulkInsert('acme', 7);
    await undoCountMigration();
    const runner = dataSource.createQueryRunner();
    expect(await runner.hasTable('opportunity_lost_reason_count').finally(() => runner.release())).toBe(false);
    await dataSource.runMigrations();
    expect(await countsOf('acme')).toEqual([7, 7]);
    expect(await countsOf('globex')).toEqual([1, 1]);
  });
});
