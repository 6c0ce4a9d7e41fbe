import type { DataSourceOptions, QueryRunner } from 'typeorm';

/** What identifies a driver's error: pg's SQLSTATE `code`, mysql2's `errno` and `code`, SQLite's `code`. */
export interface DriverError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  /** pg: the name of the constraint violated. */
  constraint?: unknown;
  /** pg: the column of a not-null violation. */
  column?: unknown;
}

/**
 * A constraint that refused a write: the module's own (a unique index) or one a host added to
 * the module's table or to its own tables (a foreign key to the module's ids, a unique index,
 * a CHECK, a NOT NULL).
 */
export interface ConstraintViolation {
  /**
   * `duplicate`: a unique or primary key. `foreign-key`: a foreign key, either way (a deleted row
   * still referenced, or a written row referencing a missing one; which one follows from the
   * statement). `check`: a CHECK or NOT NULL constraint.
   */
  kind: 'duplicate' | 'foreign-key' | 'check';
  /** What the database names the constraint by, as it reports it (its name, its column or its expression), if it does. */
  constraint?: string;
}

/**
 * A database fault worth a retry (a 503): it could not be reached or lost the connection, or it
 * gave up on the statement (a statement or lock timeout, a deadlock or serialization rollback).
 */
export type DatabaseFault = 'unavailable' | 'timeout';

/** What a prepared statement returned: the rows of a SELECT, the row count of a write. */
export interface PreparedResult {
  records: unknown[];
  affected?: number;
}

/** Runs `sql` as a prepared statement on a driver connection (what a query runner holds). */
/** `timeoutMs`: the statement's deadline, for a dialect that waits off the thread (better-sqlite3's locks). */
export type PreparedStatementRunner = (
  connection: unknown,
  sql: string,
  parameters: unknown[],
  timeoutMs?: number,
) => Promise<PreparedResult>;

/** The module's table as a dialect needs it to look up its triggers. */
export interface TableRef {
  /** `schema.table`, quoted part by part for the driver. */
  quotedPath: string;
  /** The schema (or database) named in the table path, if any. */
  schema?: string;
  /** The table's own name. */
  name: string;
}

/**
 * Everything the module does differently on one database family, chosen once per data source
 * (`dialectOf`). The rest of the module asks the dialect and never which database it is on.
 */
export interface LostReasonDialect {
  /** The family's name, for messages. */
  readonly name: string;
  /** The TypeORM `type`s of this family. */
  readonly driverTypes: readonly string[];
  /**
   * Whether the module opens transactions of its own. Not on SQLite: TypeORM shares one
   * connection between all its concurrent callers there, so their statements would interleave in
   * the module's transaction.
   */
  readonly ownTransactions: boolean;
  /**
   * One connection inside this process that runs each statement synchronously (better-sqlite3):
   * no pool to guard, no socket that can hang, no deadline that could fire under a statement, so
   * statements run on it without a pooled connection's deadline (`onPooledConnection`).
   */
  readonly embedded?: boolean;
  /**
   * Whether a write finds its row first, by a plain read, and then writes it by primary key:
   * on MySQL/MariaDB, which have no `UPDATE … RETURNING`, and whose locking statements lock the
   * index entries they scan before the tenant is checked (another tenant's id would wait on the
   * owner's transaction, an answer unlike a missing id's). Needs `ownTransactions`: when the
   * compare-and-set loses a race, the row is locked and written in a transaction of the module.
   */
  readonly findsRowFirst: boolean;
  /**
   * The SQL of a new `updated_at` for `UPDATE … RETURNING`: the later of the parameter (now) and
   * one millisecond past `column`, the stored value. Absent where `findsRowFirst`.
   */
  advancedTimestamp?(column: string): string;
  /** Whether `table` has the trigger named `trigger` (the count migration's). */
  hasTrigger(runner: QueryRunner, table: TableRef, trigger: string): Promise<boolean>;
  /**
   * Sets up the count table and its triggers without the migration, when the module may
   * (SQLite: embedded, one writer). Absent elsewhere: there, totals then come from `COUNT(*)`.
   */
  keepCounts?(runner: QueryRunner, table: { path: string; tenantColumn: string }): Promise<void>;
  /**
   * Runs one of the module's fixed statements prepared on the driver's connection (pg's named
   * statements, mysql2's `execute`, better-sqlite3's statements). Absent for the other SQLite
   * drivers: their statements go through TypeORM's `query()`.
   */
  executePrepared?: PreparedStatementRunner;
  /**
   * Closes the socket under the driver connection of `runner`, whose statement outlived the
   * request's deadline, and those of the connections idle in its pool at this moment: they went
   * through the same network, and a connection that died silently is found only by a statement
   * that never ends. Closed, each leaves the pool, which opens new ones on demand. A connection
   * in use (a host's transaction, another request's statement) is never touched: its own
   * deadline, or its owner, decides. Nothing on a database without sockets.
   */
  destroyStalled(runner: QueryRunner): void;
  /** How many statements the data source runs at once: its pool's size (1 where statements run one at a time). */
  concurrencyOf(options: DataSourceOptions): number;
  /** The constraint violation the error reports, if it is one. */
  violationOf(error: DriverError): ConstraintViolation | undefined;
  /** Text the database's character set cannot store (a latin1 table, a non-UTF-8 database). */
  isUnstorable(error: DriverError): boolean;
  /** Whether the error is a fault worth a retry, and which. */
  faultOf(error: DriverError): DatabaseFault | undefined;
  /**
   * A write the database rolled back, whole, because a concurrent write of the same rows won: a
   * deadlock, a serialization failure, or Galera's certification failing at commit. Done again at
   * once, it works on what the winner left. (Also a `'timeout'` fault, should it stay refused.)
   */
  isConflict(error: DriverError): boolean;
  /**
   * The prefix that makes a SELECT wait until this server has applied every write its cluster
   * acknowledged before the SELECT began: on a multi-primary cluster whose nodes apply each
   * other's writes only after acknowledging them (MariaDB Galera). `''` where a read sees every
   * acknowledged write already. Asked once per data source.
   */
  causalReadPrefix?(runner: QueryRunner): Promise<string>;
}
