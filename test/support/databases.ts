import { DataSource, DataSourceOptions } from 'typeorm';

export type DatabaseName = 'sqlite' | 'postgres' | 'mariadb';

/**
 * The databases the e2e suite runs on. Server URLs can be overridden with
 * POSTGRES_URL / MARIADB_URL; DB=sqlite,postgres narrows the set.
 */
export const DATABASES: Record<DatabaseName, DataSourceOptions> = {
  sqlite: { type: 'better-sqlite3', database: ':memory:' },
  postgres: { type: 'postgres', url: process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  mariadb: { type: 'mariadb', url: process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test' },
};

/** Set by the global set-up: the databases that answered (or all of them, under CI). */
export const AVAILABLE_DATABASES_ENV = 'LOST_REASON_TEST_DATABASES';

export function requestedDatabases(): DatabaseName[] {
  const requested = (process.env.DB ?? Object.keys(DATABASES).join(',')).split(',').map((name) => name.trim());
  for (const name of requested) {
    if (!(name in DATABASES)) throw new Error(`DB: unknown database "${name}" (use ${Object.keys(DATABASES).join(', ')})`);
  }
  return requested as DatabaseName[];
}

/** The databases this run tests, decided once by the global set-up. */
export function testedDatabases(): DatabaseName[] {
  const available = process.env[AVAILABLE_DATABASES_ENV];
  return (available === undefined ? requestedDatabases() : available.split(',').filter(Boolean)) as DatabaseName[];
}

/**
 * `describe.each(cases)`, or a skipped block when a run leaves no case (e.g. `DB=postgres` with
 * PostgreSQL unreachable on a laptop): Jest fails a file on `describe.each([])`.
 */
export function describeEach<T>(cases: readonly T[]): (title: string, body: (value: T) => void) => void {
  if (cases.length === 0) return (title) => describe.skip(title, () => it.todo('no database to test'));
  const label = (value: T) => (Array.isArray(value) ? value.join(' / ') : String(value));
  return (title, body) => describe.each(cases.map((value) => [label(value), value]))(`${title} (%s)`, (_label, value) => body(value as T));
}

/** Whether this run is CI's (CI=true or CI=1), where an unreachable database is a failure. */
export const isCi = (): boolean => /^(true|1)$/i.test(process.env.CI ?? '');

/** Connects and disconnects, or throws why not. */
export async function probe(name: DatabaseName): Promise<void> {
  const dataSource = new DataSource({ ...DATABASES[name], connectTimeoutMS: 3000 } as DataSourceOptions);
  await dataSource.initialize();
  await dataSource.destroy();
}

/** The databases on the server of `name` (none for SQLite, which has no server). */
export async function serverDatabases(name: DatabaseName): Promise<string[]> {
  if (name === 'sqlite') return [];
  const dataSource = await new DataSource(DATABASES[name] as DataSourceOptions).initialize();
  try {
    const rows: Record<string, string>[] = await dataSource.query(
      name === 'postgres' ? 'SELECT datname AS name FROM pg_database' : 'SELECT schema_name AS name FROM information_schema.schemata',
    );
    return rows.map((row) => row.name ?? row.NAME).sort();
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Drops the module's tables (triggers go with their table) and the migrations record, so a run
 * starts from what it builds itself: files of another jest project may have left the migrated
 * schema (with the count triggers) or a synchronized one behind. In-memory SQLite starts empty.
 */
export async function dropModuleSchema(name: DatabaseName): Promise<void> {
  if (name === 'sqlite') return;
  const dataSource = new DataSource(DATABASES[name] as DataSourceOptions);
  await dataSource.initialize();
  const queryRunner = dataSource.createQueryRunner();
  try {
    for (const table of ['opportunity_lost_reason', 'opportunity_lost_reason_count', 'opportunity_lost_reason_idempotency', 'migrations']) {
      await queryRunner.dropTable(table, true);
    }
  } finally {
    await queryRunner.release();
    await dataSource.destroy();
  }
}
