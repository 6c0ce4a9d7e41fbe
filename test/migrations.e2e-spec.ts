import { DataSource, DataSourceOptions } from 'typeorm';
import { LOST_REASON_ENTITIES, LOST_REASON_MIGRATIONS } from '../lib';
import { DATABASES, describeEach, testedDatabases } from './support/databases';

const TABLE = 'opportunity_lost_reason';
const KEYS_TABLE = 'opportunity_lost_reason_idempotency';
const COUNT_TABLE = 'opportunity_lost_reason_count';

/**
 * The shipped migrations against the entity: on an empty database they must build exactly
 * the schema `LostReason` describes, so a host with `synchronize: false` gets what the
 * module's queries expect. Any drift (a length, a nullability, the unique index) shows up as
 * pending schema-builder queries.
 */
describeEach(testedDatabases())('LOST_REASON_MIGRATIONS', (db) => {
  let dataSource: DataSource;
  const hasTable = async (table = TABLE) => {
    const queryRunner = dataSource.createQueryRunner();
    try {
      return await queryRunner.hasTable(table);
    } finally {
      await queryRunner.release();
    }
  };

  beforeAll(async () => {
    // Start from an empty database: nothing left by other suites can mask a missing piece.
    const wipe = new DataSource({ ...DATABASES[db], dropSchema: true } as DataSourceOptions);
    await wipe.initialize();
    await wipe.destroy();
    dataSource = new DataSource({
      ...DATABASES[db],
      entities: [...LOST_REASON_ENTITIES],
      synchronize: false,
      migrations: LOST_REASON_MIGRATIONS,
    } as DataSourceOptions);
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
  });

  it('builds exactly the schema the entity expects: TypeORM has nothing left to change', async () => {
    expect(await dataSource.showMigrations()).toBe(true);
    const executed = await dataSource.runMigrations();
    expect(executed.map((migration) => migration.name)).toEqual([
      'CreateOpportunityLostReason1764115200000',
      'AddTenantToOpportunityLostReason1764201600000',
      'CreateOpportunityLostReasonIdempotency1764288000000',
      'CountOpportunityLostReasons1764374400000',
      'StoreIdempotencyTenantsAsHex1764460800000',
      'ShardCountsByNode1764547200000',
    ]);
    expect(await dataSource.showMigrations()).toBe(false);
    // The queries themselves, not just a count, so a failure says what drifted.
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  /** Reverts the migrations, newest first, down to and including the one named. */
  async function undoThrough(name: string): Promise<void> {
    const names = LOST_REASON_MIGRATIONS.map((Migration) => new Migration().name);
    const [{ executed }] = await dataSource.query(
      `SELECT COUNT(*) AS ${dataSource.driver.escape('executed')} FROM ${dataSource.driver.escape('migrations')}`,
    );
    for (let i = Number(executed); i > names.indexOf(name); i--) await dataSource.undoLastMigration();
  }

  it('MySQL/MariaDB: the count triggers pick counter rows per server, and totals stay exact across the change', async () => {
    const triggerBodies = async (): Promise<string> =>
      db === 'mariadb'
        ? (
            await dataSource.query(
              "SELECT ACTION_STATEMENT AS body FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = 'opportunity_lost_reason'",
            )
          )
            .map((row: { body: string }) => row.body)
            .join('\n')
        : '';
    const insert = (id: string) =>
      dataSource.query(
        `INSERT INTO ${TABLE} (tenant_id, id, created_at, updated_at, lost_reason) VALUES ('', 'opportunity-lost-reason_${id.repeat(32)}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', NULL)`,
      );
    const total = async () => Number((await dataSource.query(`SELECT SUM(n) AS n FROM ${COUNT_TABLE} WHERE tenant_id = ''`))[0].n ?? 0);
    if (db === 'mariadb') expect(await triggerBodies()).toContain('@@port');
    await undoThrough('ShardCountsByNode1764547200000');
    if (db === 'mariadb') expect(await triggerBodies()).not.toContain('@@port');
    await insert('1');
    await dataSource.runMigrations();
    await insert('2');
    expect(await total()).toBe(2);
    await dataSource.query(`DELETE FROM ${TABLE}`);
    expect(await total()).toBe(0);
  });

  it('upgrades stored idempotency keys: their tenant is stored as hex, as the objects are, and back on revert', async () => {
    await undoThrough('StoreIdempotencyTenantsAsHex1764460800000'); // tenants as given, in 64 characters
    const tenant = 'Ünïcode tenant ' + 'x'.repeat(40); // 57 characters, 60 bytes in UTF-8
    await dataSource.query(
      `INSERT INTO ${KEYS_TABLE} (id, tenant_id, idempotency_key, request_hash, created_at) VALUES ('${'b'.repeat(64)}', '${tenant}', 'k', '${'c'.repeat(64)}', '2026-01-01T00:00:00.000Z'), ('${'d'.repeat(64)}', '', 'k', '${'c'.repeat(64)}', '2026-01-01T00:00:00.000Z')`,
    );
    await dataSource.runMigrations();
    const tenants = async () =>
      (await dataSource.query(`SELECT tenant_id FROM ${KEYS_TABLE} ORDER BY id`)).map((row: { tenant_id: string }) => row.tenant_id);
    expect(await tenants()).toEqual([Buffer.from(tenant, 'utf8').toString('hex'), '']);
    await undoThrough('StoreIdempotencyTenantsAsHex1764460800000');
    expect(await tenants()).toEqual([tenant, '']);
    await dataSource.query(`DELETE FROM ${KEYS_TABLE}`);
    await dataSource.runMigrations();
  });

  it('leaves the keys of a table synchronize built from this version as they are (hex already)', async () => {
    const hex = Buffer.from('acme', 'utf8').toString('hex');
    await dataSource.query(
      `INSERT INTO ${KEYS_TABLE} (id, tenant_id, idempotency_key, request_hash, created_at) VALUES ('${'e'.repeat(64)}', '${hex}', 'k', '${'c'.repeat(64)}', '2026-01-01T00:00:00.000Z')`,
    );
    await dataSource.query(
      `DELETE FROM ${dataSource.driver.escape('migrations')} WHERE name = 'StoreIdempotencyTenantsAsHex1764460800000'`,
    );
    await dataSource.runMigrations();
    expect(await dataSource.query(`SELECT tenant_id FROM ${KEYS_TABLE}`)).toEqual([{ tenant_id: hex }]);
    await dataSource.query(`DELETE FROM ${KEYS_TABLE}`);
  });

  it('upgrades a table holding objects: they keep their data and belong to no tenant', async () => {
    await undoThrough('CountOpportunityLostReasons1764374400000');
    expect(await hasTable(COUNT_TABLE)).toBe(false);
    await undoThrough('CreateOpportunityLostReasonIdempotency1764288000000');
    expect(await hasTable(KEYS_TABLE)).toBe(false);
    await undoThrough('AddTenantToOpportunityLostReason1764201600000'); // back to the first, single-tenant schema
    await dataSource.query(
      `INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason) VALUES ('opportunity-lost-reason_${'a'.repeat(32)}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'kept')`,
    );
    await dataSource.runMigrations();
    const [row] = await dataSource.query(`SELECT tenant_id, lost_reason FROM ${TABLE}`);
    expect(row).toEqual({ tenant_id: '', lost_reason: 'kept' });
    const [{ n }] = await dataSource.query(`SELECT SUM(n) AS n FROM ${COUNT_TABLE} WHERE tenant_id = ''`);
    expect(Number(n)).toBe(1); // counted when the count table was created
    await dataSource.query(`DELETE FROM ${TABLE}`);
  });

  it('reverts: undoing the migrations removes the tables, and they apply again afterwards', async () => {
    await undoThrough('StoreIdempotencyTenantsAsHex1764460800000');
    expect(await hasTable(KEYS_TABLE)).toBe(true);
    expect(await hasTable(COUNT_TABLE)).toBe(true);
    await undoThrough('CountOpportunityLostReasons1764374400000');
    expect(await hasTable(COUNT_TABLE)).toBe(false);
    await undoThrough('CreateOpportunityLostReasonIdempotency1764288000000');
    expect(await hasTable(KEYS_TABLE)).toBe(false);
    expect(await hasTable()).toBe(true);
    await undoThrough('AddTenantToOpportunityLostReason1764201600000');
    expect(await hasTable()).toBe(true);
    await undoThrough('CreateOpportunityLostReason1764115200000');
    expect(await hasTable()).toBe(false);
    expect(await dataSource.showMigrations()).toBe(true);
    await dataSource.runMigrations();
    expect(await hasTable()).toBe(true);
    expect(await hasTable(KEYS_TABLE)).toBe(true);
    expect(await hasTable(COUNT_TABLE)).toBe(true);
    expect((await dataSource.driver.createSchemaBuilder().log()).upQueries.map((query) => query.query)).toEqual([]);
  });
});
