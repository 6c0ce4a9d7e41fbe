import { keepSqliteCounts } from './sqlite-counts';
import { ConstraintViolation, DriverError, LostReasonDialect, PreparedResult } from './dialect.interface';

/**
 * A constraint's refusal, as SQLite words it (better-sqlite3's code is `SQLITE_CONSTRAINT_<kind>`,
 * sqlite3's `SQLITE_CONSTRAINT` with the code again before the message). A foreign key's
 * `ON DELETE RESTRICT` comes as `SQLITE_CONSTRAINT_TRIGGER`, hence the message rather than the code.
 */
const VIOLATION = /\b(UNIQUE|FOREIGN KEY|CHECK|NOT NULL) constraint failed(?:: (.+))?$/;
const VIOLATION_KINDS: Record<string, ConstraintViolation['kind']> = {
  UNIQUE: 'duplicate',
  'FOREIGN KEY': 'foreign-key',
  CHECK: 'check',
  'NOT NULL': 'check',
};

/** SQLITE_BUSY (another connection holds the lock: "database is locked"), SQLITE_LOCKED ("database table is locked"), and their extended codes. */
const isLocked = ({ code }: DriverError): boolean => typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);

/** SQLite, through `sqlite3` or sql.js (better-sqlite3 below): embedded, one writer at a time. */
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

  // No pool: statements run one at a time on the event loop, but a request waiting out another
  // connection's lock (off the thread) holds a place, and must not hold every other request.
  concurrencyOf: () => 10,

  destroyStalled() {
    // No socket: an embedded database cannot hang on the network.
  },

  violationOf({ code, message }) {
    if (typeof code !== 'string' || !code.startsWith('SQLITE_CONSTRAINT') || typeof message !== 'string') return undefined;
    const [, kind, named] = VIOLATION.exec(message) ?? [];
    return kind === undefined ? undefined : { kind: VIOLATION_KINDS[kind], ...(named !== undefined && { constraint: named }) };
  },
  isUnstorable: () => false, // stores any text
  // No connection to lose; another connection's lock held past the busy timeout: a lock timeout.
  faultOf: (error) => (isLocked(error) ? 'timeout' : undefined),
  isConflict: () => false, // one writer at a time: writes wait, they do not conflict
};

/** The few members of better-sqlite3's database and statements used here. */
interface BetterSqlite3Statement {
  /** Whether the statement returns rows (a SELECT, or a write with RETURNING). */
  reader: boolean;
  all(...parameters: unknown[]): unknown[];
  get(...parameters: unknown[]): unknown;
  run(...parameters: unknown[]): { changes: number };
}
interface BetterSqlite3Database {
  prepare(sql: string): BetterSqlite3Statement;
  /** Whether a transaction is open: a host's (the module opens none on SQLite). */
  readonly inTransaction: boolean;
}

/** Each database's statements, prepared once: the module has a few fixed ones, and the busy timeout's pragmas. */
const preparedOn = new WeakMap<BetterSqlite3Database, Map<string, BetterSqlite3Statement>>();

function preparedStatement(database: BetterSqlite3Database, sql: string): BetterSqlite3Statement {
  let statements = preparedOn.get(database);
  if (!statements) preparedOn.set(database, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = database.prepare(sql)));
  return statement;
}

/** The pause between two tries of a statement another connection's lock refused. */
const BUSY_PAUSE_MS = 5;

/**
 * `run` (one statement, synchronous) waiting for another connection's lock as long as the host's
 * statements would (the connection's busy timeout: TypeORM's `timeout`, 5 s by default), but
 * without holding the thread: SQLite's own wait sleeps in the statement, and every request of
 * every tenant, the host's routes too, would wait with it. The statement runs with no busy
 * timeout, set for it alone and restored before anything else runs (both synchronous), and is
 * tried again after a pause while the lock is held; past the host's timeout or the statement's
 * deadline (`timeoutMs`: the client has its 503 by then, and a write must not start after it),
 * SQLITE_BUSY (a 503). Inside a host's transaction it runs as the host's statements do: that
 * transaction's locks, kept while the module paused, could be what the other connection waits for.
 */
async function waitingOffThread<T>(
  database: BetterSqlite3Database,
  run: (database: BetterSqlite3Database) => T,
  timeoutMs = Infinity,
): Promise<T> {
  if (database.inTransaction) return run(database);
  const { timeout } = preparedStatement(database, 'PRAGMA busy_timeout').get() as { timeout: number };
  if (!(timeout > 0)) return run(database);
  let givesUpAt: number | undefined;
  for (;;) {
    // Also after a pause: a host's transaction may have begun on the connection meanwhile.
    if (database.inTransaction) return run(database);
    preparedStatement(database, 'PRAGMA busy_timeout = 0').run();
    try {
      return run(database);
    } catch (error) {
      givesUpAt ??= Date.now() + Math.min(timeout, timeoutMs);
      if (!isLocked(error as DriverError) || Date.now() >= givesUpAt) throw error;
    } finally {
      preparedStatement(database, `PRAGMA busy_timeout = ${timeout}`).run();
    }
    await new Promise((resolve) => setTimeout(resolve, BUSY_PAUSE_MS));
  }
}

/**
 * SQLite through better-sqlite3, whose statements the module prepares and runs itself: TypeORM's
 * `query()` would find the same prepared statement in its cache, but around it costs a retrieve
 * on Fastify about 6,000 instructions more (callgrind), 4 % of the module's request.
 */
export const betterSqlite3Dialect: LostReasonDialect = {
  ...sqliteDialect,
  driverTypes: ['better-sqlite3'],
  // Synchronous: a statement holds the thread until it ends, so no deadline could fire under it.
  // (sqlite3's statements wait on a thread of their own, and keep the pooled connection's deadline.)
  embedded: true,

  executePrepared: (connection, sql, parameters, timeoutMs): Promise<PreparedResult> =>
    // Preparing reads the schema, which another connection's lock can refuse too.
    waitingOffThread(
      connection as BetterSqlite3Database,
      (database) => {
        const statement = preparedStatement(database, sql);
        return statement.reader
          ? { records: statement.all(...parameters) }
          : { records: [], affected: statement.run(...parameters).changes };
      },
      timeoutMs,
    ),
};
