import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { LOST_REASON_ENTITIES, LOST_REASON_MIGRATIONS, LostReason, LostReasonIdempotencyKey, LostReasonModule } from '../../lib';
import { keepSqliteCounts } from '../../lib/persistence/dialects/sqlite-counts';
import { DATABASES, DatabaseName } from './databases';
import { AdapterName, createAdapter } from './adapters';

export const API_KEY = 'sk_test_e2e_4eC39HqLyjWDarjtT1zdp7dc';
export const RESOURCE = '/api/crm/opportunity-lost-reason';
export const auth = { Authorization: `Bearer ${API_KEY}` };

/**
 * `LOST_REASON_SCHEMA=migrations` (set by the e2e-migrations jest project) builds the schema the
 * way production hosts do: the shipped migrations, no synchronize.
 */
export const usesMigrations = (): boolean => process.env.LOST_REASON_SCHEMA === 'migrations';

/** TypeORM options of a host app on one of the test databases. */
export function hostDatabase(db: DatabaseName, extra: Partial<DataSourceOptions> = {}): DataSourceOptions {
  const schema = usesMigrations() ? { synchronize: false, migrationsRun: true, migrations: LOST_REASON_MIGRATIONS } : { synchronize: true };
  return { ...DATABASES[db], entities: [...LOST_REASON_ENTITIES], ...schema, ...extra } as DataSourceOptions;
}

/**
 * Rebuilds the module's table after a test dropped it, the way the schema was built. On SQLite
 * under `synchronize`, its count triggers too, as the module sets them up at its next start.
 */
export async function restoreSchema(dataSource: DataSource): Promise<void> {
  if (!usesMigrations()) {
    await dataSource.synchronize();
    if (dataSource.options.type === 'better-sqlite3') {
      const runner = dataSource.createQueryRunner();
      await keepSqliteCounts(runner, { table: 'opportunity_lost_reason', tenantColumn: 'tenant_id' }).finally(() => runner.release());
    }
    return;
  }
  // The table is gone but its migrations are recorded as applied: forget them, apply them again
  // (from an empty database: the later migrations' tables go too).
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.dropTable('opportunity_lost_reason_idempotency', true);
    await queryRunner.dropTable('opportunity_lost_reason_count', true);
  } finally {
    await queryRunner.release();
  }
  await dataSource.query(`DELETE FROM ${dataSource.driver.escape('migrations')}`);
  await dataSource.runMigrations();
}

/** What a host app is made of; everything but the database has a default. */
export interface HostAppOptions {
  /** The test database it connects to. */
  db: DatabaseName;
  /** Modules the host imports next to its TypeORM connection; by default the module with one API key. */
  imports?: ModuleMetadata['imports'];
  /** Runs on the app before `init()`: global prefix, pipes, filters, a logger… */
  configure?: (app: INestApplication) => void;
  /** The HTTP adapter; Express by default. */
  adapter?: AdapterName;
  /** Keeps the rows already in the tables (by default they start empty). */
  keepRows?: boolean;
  /** TypeORM options over the test database's (e.g. a SQLite file instead of memory). */
  database?: Partial<DataSourceOptions>;
}

/**
 * Boots a host app: its own TypeORM connection plus whatever modules a test adds (by
 * default the module with one API key). The tables start empty.
 */
export async function createHostApp({
  db,
  imports = [LostReasonModule.forRoot({ apiKeys: [API_KEY] })],
  configure,
  adapter = 'express',
  keepRows = false,
  database = {},
}: HostAppOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TypeOrmModule.forRoot({ ...hostDatabase(db, database), retryAttempts: 0 }), ...imports],
  }).compile();
  const app = moduleRef.createNestApplication(createAdapter(adapter), { logger: false });
  configure?.(app);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  if (!keepRows) {
    // DELETE, not clear() (TRUNCATE): MySQL/MariaDB fire no trigger on TRUNCATE, and the migrated
    // schema keeps its counts by triggers.
    await app.get(DataSource).getRepository(LostReason).createQueryBuilder().delete().execute();
    await app.get(DataSource).getRepository(LostReasonIdempotencyKey).clear();
  }
  return app;
}
