import { keepSqliteCounts } from '../../migrations/1764374400000-count-opportunity-lost-reasons';
import { LostReasonDialect } from './dialect.interface';

/** SQLite, through `better-sqlite3`, `sqlite3` or sql.js: embedded, one writer at a time. */
export const sqliteDialect: LostReasonDialect = {
  name: 'SQLite',
  driverTypes: ['better-sqlite3', 'sqlite', 'sqljs'],
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
