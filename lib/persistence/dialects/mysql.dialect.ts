import { ConstraintViolation, DatabaseFault, DriverError, LostReasonDialect } from './dialect.interface';
import type { DataSourceOptions } from 'typeorm';

/** mysql2's codes of a lost, refused or exhausted connection. */
const UNAVAILABLE_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
]);
/**
 * Galera: 1047 (ER_UNKNOWN_COM_ERROR) is what a node outside the Primary Component answers every
 * statement with ("WSREP has not yet prepared node for application use"), and 1180
 * (ER_ERROR_DURING_COMMIT) a COMMIT it could not replicate ("Not connected to Primary Component").
 * The node is unavailable until it rejoins: a retry, through it later or through another node, succeeds.
 */
const UNAVAILABLE_ERRNOS = new Set([1047, 1180]);
/** innodb_lock_wait_timeout, MariaDB's max_statement_time, MySQL's max_execution_time, an InnoDB deadlock. */
const TIMEOUT_CODES = new Set(['ER_LOCK_WAIT_TIMEOUT', 'ER_STATEMENT_TIMEOUT', 'ER_QUERY_TIMEOUT', 'ER_LOCK_DEADLOCK']);
/**
 * ER_LOCK_DEADLOCK: an InnoDB deadlock, or a Galera certification failure (another node committed a
 * write of the same row first). Either way the transaction was rolled back whole.
 */
const CONFLICT_ERRNO = 1213;
/**
 * Galera's causal reads for one statement: the node first applies every write the cluster
 * committed before it (`wsrep_sync_wait` bit 1, reads). MariaDB's `SET STATEMENT` changes the
 * variable for that statement alone, in the same round trip.
 */
const GALERA_CAUSAL_READ = 'SET STATEMENT wsrep_sync_wait = 1 FOR ';
/**
 * Constraint violations by errno, and where each message names the constraint: ER_DUP_ENTRY
 * ("Duplicate entry 'x' for key 'name'"); a foreign key refusing the delete of a referenced row
 * (1451, 1217) or a row referencing a missing one (1452, 1216); MariaDB's CHECK
 * ("CONSTRAINT `t.column` failed for …", a column's constraint named after it), MySQL's
 * ("Check constraint 'name' is violated."), and a NULL in a NOT NULL column.
 */
const VIOLATIONS = new Map<unknown, { kind: ConstraintViolation['kind']; named: RegExp }>([
  [1062, { kind: 'duplicate', named: /for key '([^']*)'/ }],
  [1451, { kind: 'foreign-key', named: /CONSTRAINT `([^`]*)`/ }],
  [1217, { kind: 'foreign-key', named: /CONSTRAINT `([^`]*)`/ }],
  [1452, { kind: 'foreign-key', named: /CONSTRAINT `([^`]*)`/ }],
  [1216, { kind: 'foreign-key', named: /CONSTRAINT `([^`]*)`/ }],
  [4025, { kind: 'check', named: /^CONSTRAINT `([^`]*)` failed/ }],
  [3819, { kind: 'check', named: /^Check constraint '([^']*)'/ }],
  [1048, { kind: 'check', named: /^Column '([^']*)' cannot be null/ }],
]);

/** mysql2's closed connection, and its pool closed by the host's shutdown: neither carries a code. */
const UNAVAILABLE_MESSAGE = /^(Can't add new command when connection is in closed state|Pool is closed\.)/;

/** mysql2's pooled connection: its socket, and its pool's idle connections (a queue with `get`, in every mysql2 version). */
type Mysql2Connection = {
  stream?: { destroy?: () => void };
  destroy?: () => void;
  _pool?: { _freeConnections?: { length: number; get(index: number): Mysql2Connection | undefined } } | null;
};
type Callback = (error: Error | null, result: unknown) => void;
/**
 * What TypeORM's pooled connection (callback API) offers: mysql2's has `execute` (prepared); the
 * legacy `mysql` package's, which TypeORM 0.3 may load instead, only `query`.
 */
type MysqlConnection = {
  execute?(sql: string, values: unknown[], done: Callback): void;
  query(sql: string, values: unknown[], done: Callback): void;
};

/** MySQL and MariaDB, through the `mysql2` driver. */
export const mysqlDialect: LostReasonDialect = {
  name: 'MySQL/MariaDB',
  driverTypes: ['mysql', 'mariadb'],
  ownTransactions: true,
  findsRowFirst: true,

  async hasTrigger(runner, table, trigger) {
    const found: unknown[] = await runner.query(
      'SELECT 1 FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = COALESCE(?, DATABASE()) AND EVENT_OBJECT_TABLE = ? AND TRIGGER_NAME = ?',
      [table.schema ?? null, table.name, trigger],
    );
    return found.length > 0;
  },

  // mysql2 prepares each text once per connection (an LRU of them) and then only executes it.
  // Numbers go as strings: its binary protocol sends a JS number as a DOUBLE, which MySQL 8.0.22+
  // refuses for LIMIT (MariaDB takes either); the server reads '20' as the integer it needs.
  executePrepared: (connection, sql, values) =>
    new Promise((resolve, reject) => {
      const driver = connection as MysqlConnection;
      const done: Callback = (error, result) => {
        if (error) return reject(error);
        if (Array.isArray(result)) return resolve({ records: result });
        resolve({ records: [], affected: (result as { affectedRows?: number }).affectedRows });
      };
      const parameters = values.map((value) => (typeof value === 'number' ? String(value) : value));
      if (driver.execute) driver.execute(sql, parameters, done);
      else driver.query(sql, values, done);
    }),

  // TypeORM gives mysql2's pool `poolSize` as `connectionLimit`, `extra` over it; mysql2's own default is 10.
  concurrencyOf: ({ poolSize, extra }: DataSourceOptions & { extra?: { connectionLimit?: number } }) =>
    extra?.connectionLimit ?? poolSize ?? 10,

  destroyStalled(runner) {
    // mysql2's pool hands out its idle connections without checking them: each dead one would
    // cost a request its deadline. A connection keeps its socket at `stream`, and leaves its pool
    // with `destroy()` (which takes it out of the idle ones too: they are listed first).
    const stalled = (runner as { databaseConnection?: Mysql2Connection }).databaseConnection;
    // The idle ones, listed before any is closed (a closed connection leaves its pool, and forgets
    // it), through the pool's private list: mysql2's (a Denque). Anything else (the legacy mysql
    // package's array, a newer mysql2) is left to the pool, rather than fail the 503.
    const free = stalled?._pool?._freeConnections;
    const idle = typeof free?.get === 'function' ? Array.from({ length: free.length }, (_, index) => free.get(index)) : [];
    for (const connection of [stalled, ...idle]) {
      connection?.stream?.destroy?.();
      connection?.destroy?.();
    }
  },

  violationOf({ errno, message }) {
    const violation = VIOLATIONS.get(errno);
    if (!violation) return undefined;
    const named = typeof message === 'string' ? violation.named.exec(message)?.[1] : undefined;
    return { kind: violation.kind, ...(named !== undefined && { constraint: named }) };
  },
  isUnstorable: ({ errno }) => errno === 1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: a character the column's charset lacks

  isConflict: ({ errno }) => errno === CONFLICT_ERRNO,

  async causalReadPrefix(runner) {
    // Only MariaDB has `SET STATEMENT`. MySQL's Galera forks (Percona XtraDB Cluster) get no
    // prefix: there, set `wsrep_sync_wait` on the server (docs/faults-and-scaling.md).
    const [{ version }]: { version: string }[] = await runner.query('SELECT VERSION() AS version');
    if (!/mariadb/i.test(version)) return '';
    // SHOW VARIABLES: no row, rather than an error, on a build without wsrep.
    const [wsrep]: { Value?: string }[] = await runner.query("SHOW VARIABLES LIKE 'wsrep_on'");
    return wsrep?.Value === 'ON' ? GALERA_CAUSAL_READ : '';
  },

  faultOf({ code, errno, message }: DriverError): DatabaseFault | undefined {
    if (typeof errno === 'number' && UNAVAILABLE_ERRNOS.has(errno)) return 'unavailable';
    if (typeof code === 'string') {
      if (UNAVAILABLE_CODES.has(code)) return 'unavailable';
      if (TIMEOUT_CODES.has(code)) return 'timeout';
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return 'unavailable';
    return undefined;
  },
};
