import { keepSqliteCounts } from '../../migrations/1764374400000-count-opportunity-lost-reasons';
import { LostReasonDialect, PreparedStatementRunner } from './dialect.interface';

type BetterSqliteStatement = { reader: boolean; all(...values: unknown[]): unknown[]; run(...values: unknown[]): { changes: number } };
type BetterSqliteDatabase = { prepare(sql: string): BetterSqliteStatement };

/** Each better-sqlite3 database's prepared statements, by text (the module has a fixed few). */
const preparedOf = new WeakMap<BetterSqliteDatabase, Map<string, BetterSqliteStatement>>();

/**
 * better-sqlite3 runs statements synchronously: prepared once per database and run at once,
 * without the awaits TypeORM's query runner spends around each one.
 */
const executeOnBetterSqlite: PreparedStatementRunner = async (connection, sql, values) => {
  const database = connection as BetterSqliteDatabase;
  let statements = preparedOf.get(database);
  if (!statements) preparedOf.set(database, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = database.prepare(sql)));
  if (statement.reader) return { records: statement.all(...values) };
  return { records: [], affected: statement.run(...values).changes };
};

/** SQLite, through `sqlite3` or sql.js: embedded, one writer at a time. */
export const sqliteDialect: LostReasonDialect = {
  name: 'SQLite',
  driverTypes: ['sqlite', 'sqljs'],
  ownTransactions: false,
  findsRowFirst: false,

  // Text SQLite cannot read as a time yields '' (now wins).
  advancedTimestamp: (column) => `MAX(?, COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', ${column}, '+0.001 seconds'), ''))`,

  async hasTrigger(runner, table, trigger) {
    const found: unknown[] = await runner.query("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name = ?", [
      table.name,
      trigger,
    ]);
    return found.length > 0;
  },

  keepCounts: (runner, { path, tenantColumn }) => keepSqliteCounts(runner, { table: path, tenantColumn }),

  destroyConnection() {
    // No socket: an embedded database cannot hang on the network.
  },

  isDuplicate: ({ code }) => code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE',
  isUnstorable: () => false, // stores any text
  faultOf: () => undefined, // no connection to lose
  isConflict: () => false, // one writer at a time: writes wait, they do not conflict
};

/** SQLite through `better-sqlite3`, whose statements the module prepares and runs itself. */
export const betterSqliteDialect: LostReasonDialect = {
  ...sqliteDialect,
  driverTypes: ['better-sqlite3'],
  executePrepared: executeOnBetterSqlite,
};
