import { EntityManager, QueryResult, QueryRunner, ReplicationMode, Repository } from 'typeorm';
import { retryingConflicts } from './conflict-retry.util';
import { databaseFaultOf } from './database-fault.classifier';
import { ConstraintViolation } from './dialects/dialect.interface';
import { dialectOf, driverErrorOf } from './dialects/dialect.registry';
import { LostReason } from './lost-reason.entity';
import { CursorDirection, LostReasonRow, LostReasonStatements } from './lost-reason.statements';
import { onPooledConnection } from './pooled-connection.util';
import { executePrepared, preparedRunnerOf } from './prepared-statement.executor';

/** A stored object with its primary key, which writes by key use. */
export type StoredLostReason = LostReasonRow & { seq: number };

/** A row of a page by offset: the object's columns and the tenant's total. */
export type PageRow = LostReasonRow & { total: string | number };

/** Where a cursor stands in the list order, and the tenant's total. */
export interface CursorPosition {
  created_at: string;
  seq: number;
  total: string | number;
}

/**
 * Why the database refused a write for the data itself rather than failing: text its character
 * set cannot store, or a constraint (`ConstraintViolation`). `column`: `lost_reason` when the
 * database's report of the constraint names that column.
 */
export interface WriteRefusal {
  kind: 'unstorable' | ConstraintViolation['kind'];
  column?: 'lost_reason';
}

/** Picks one of the fixed statements. */
type Statement = (statements: LostReasonStatements) => string;

/**
 * Runs the fixed statements on the host's data source, one method per operation of the
 * resource, each for one tenant (its stored id, `''` without tenancy). Reads go to replicas
 * when the host has them; writes, and the reads a write depends on, to the primary. Statements
 * run on the host's transaction with `withManager`, else each on a pooled connection that is
 * closed if it outlives the request deadline (`onPooledConnection`), or on better-sqlite3's one
 * connection. With `prepared`, each is a prepared statement of the driver where the dialect has
 * them (`executePrepared`).
 */
export class LostReasonStore {
  constructor(
    private readonly repository: Repository<LostReason>,
    private readonly timeoutMs?: number,
    private readonly prepared = true,
  ) {}

  /** This store working through `manager`, typically the host's transaction. */
  withManager(manager: EntityManager): LostReasonStore {
    return new LostReasonStore(manager.getRepository(LostReason), this.timeoutMs, this.prepared);
  }

  /** The manager statements run through (the host's transaction's, with `withManager`). */
  get manager(): EntityManager {
    return this.repository.manager;
  }

  /** Builds the statements (and finds the dialect) ahead of the first call. */
  async prepare(): Promise<void> {
    await this.statements();
  }

  /** Why the database refused a write for the data it holds or was given (the caller's error, not the database's), if it did. */
  refusalOf(error: unknown): WriteRefusal | undefined {
    const driverError = driverErrorOf(error);
    if (driverError === undefined) return undefined;
    const dialect = dialectOf(this.repository.manager.connection);
    if (dialect.isUnstorable(driverError)) return { kind: 'unstorable', column: 'lost_reason' };
    const violation = dialect.violationOf(driverError);
    if (violation === undefined) return undefined;
    const column = this.repository.metadata.findColumnWithPropertyName('lost_reason')?.databaseName ?? 'lost_reason';
    return {
      kind: violation.kind,
      ...(names(violation.constraint, column, this.repository.metadata.tableName) && { column: 'lost_reason' }),
    };
  }

  /** One INSERT. */
  async insert(tenant: string, { id, created_at, updated_at, lost_reason }: LostReasonRow): Promise<void> {
    await this.write((sql) => sql.insert, [tenant, id, created_at, updated_at, lost_reason]);
  }

  /** The tenant's object `id`; `mode: 'master'` for the reads a write depends on, which must not lag. */
  async find(tenant: string, id: string, mode?: ReplicationMode): Promise<StoredLostReason | undefined> {
    const [row] = await this.read<StoredLostReason>((sql) => sql.retrieve, [id, tenant], { mode });
    return row;
  }

  /** A page at `offset`, newest first, each row with the tenant's total (one statement). */
  pageAtOffset(tenant: string, limit: number, offset: number): Promise<PageRow[]> {
    return offset === 0
      ? this.read<PageRow>((sql) => sql.firstPage, [tenant, tenant, limit])
      : this.read<PageRow>((sql) => sql.pageAtOffset, [tenant, tenant, limit, offset]);
  }

  /** The number of the tenant's objects. */
  async count(tenant: string): Promise<number> {
    const [{ total }] = await this.read<{ total: string | number }>((sql) => sql.count, [tenant]);
    return Number(total);
  }

  /** The position of the tenant's object `id` in the list order, with the total. */
  async cursorPosition(tenant: string, id: string): Promise<CursorPosition | undefined> {
    const [position] = await this.read<CursorPosition>((sql) => sql.cursorPosition, [tenant, id, tenant]);
    return position;
  }

  /** Up to `limit` objects right after (older) or before (newer) `position`, nearest first. */
  pageNextTo(tenant: string, direction: CursorDirection, { created_at, seq }: CursorPosition, limit: number): Promise<LostReasonRow[]> {
    return this.read<LostReasonRow>((sql) => sql.pageNextTo[direction], [tenant, created_at, created_at, created_at, seq, limit]);
  }

  /**
   * Sets `lost_reason` (unless undefined; `null` clears it) and moves `updated_at` forward,
   * strictly: past the stored value even within one millisecond, and past a concurrent update's.
   * The updated object, or undefined if the tenant has no object `id`.
   *
   * One `UPDATE … RETURNING` that steps `updated_at` in the database itself, so concurrent
   * updates of one object each get their own, later `updated_at` and none is refused. Where the
   * dialect finds rows first: a plain read, then an `UPDATE` by primary key if `updated_at` is
   * still the one read; when another write came in between, `SELECT … FOR UPDATE` then `UPDATE`
   * in one transaction. An update the database rolls back for a conflict is done again (`retryingConflicts`).
   */
  update(tenant: string, id: string, lostReason: string | null | undefined): Promise<LostReasonRow | undefined> {
    return retryingConflicts(this.repository.manager, this.timeoutMs, () => this.updateOnce(tenant, id, lostReason));
  }

  /** Deletes the tenant's object `id` (one DELETE; where the dialect finds rows first, a read and a DELETE by key). */
  delete(tenant: string, id: string): Promise<boolean> {
    return retryingConflicts(this.repository.manager, this.timeoutMs, () => this.deleteOnce(tenant, id));
  }

  private async updateOnce(tenant: string, id: string, lostReason: string | null | undefined): Promise<LostReasonRow | undefined> {
    const set = lostReason === undefined ? [] : [lostReason];
    const changed = lostReason === undefined ? {} : { lost_reason: lostReason };
    const variant = lostReason === undefined ? 'timestampOnly' : 'withLostReason';
    if (!this.findsRowFirst) {
      const now = new Date().toISOString();
      const [row] = (await this.write((sql) => sql.updateAdvancing[variant], [now, ...set, id, tenant])).records as LostReasonRow[];
      return row;
    }
    // A plain read, then a compare-and-set by primary key: two statements, no lock held.
    const current = await this.find(tenant, id, 'master');
    if (!current) return undefined;
    const updatedAt = laterThan(current.updated_at);
    const { affected } = await this.write(
      (sql) => sql.updateBySeqIfUnchanged[variant],
      [updatedAt, ...set, current.seq, tenant, current.updated_at],
    );
    if (affected) return { ...current, updated_at: updatedAt, ...changed };
    // Another write came first: lock the row and write on what it holds now. (Retrying the plain
    // read would not do inside a host's REPEATABLE READ transaction: it would see the same old
    // snapshot every time.)
    return this.transaction(async (transaction) => {
      const [locked] = await this.read<LostReasonRow>((sql) => sql.lockBySeq, [current.seq, tenant], { manager: transaction });
      if (!locked) return undefined;
      const next = laterThan(locked.updated_at);
      await this.write((sql) => sql.updateBySeq[variant], [next, ...set, current.seq, tenant], transaction);
      return { ...locked, updated_at: next, ...changed };
    });
  }

  private async deleteOnce(tenant: string, id: string): Promise<boolean> {
    if (!this.findsRowFirst) {
      return Boolean((await this.write((sql) => sql.delete, [id, tenant])).affected);
    }
    const current = await this.find(tenant, id, 'master');
    return current !== undefined && Boolean((await this.write((sql) => sql.deleteBySeq, [current.seq, tenant])).affected);
  }

  /** Whether the dialect finds a row before writing it: known without a round trip or an await (the dialect is chosen once per data source). */
  private get findsRowFirst(): boolean {
    return dialectOf(this.repository.manager.connection).findsRowFirst;
  }

  private statements(): Promise<LostReasonStatements> {
    return LostReasonStatements.of(this.repository.metadata, this.timeoutMs);
  }

  /**
   * The rows of a SELECT: on replicas when the host has them (unless inside a transaction), or on
   * the primary with `'master'`. A replica that cannot be reached (down, refusing, its connection
   * lost) is not an outage: the primary, which has every row, answers instead.
   */
  private async read<T>(
    statement: Statement,
    parameters: unknown[],
    { manager = this.repository.manager, mode }: { manager?: EntityManager; mode?: ReplicationMode } = {},
  ): Promise<T[]> {
    const chosen = mode ?? manager.connection.defaultReplicationModeForReads();
    try {
      return (await this.run(statement, parameters, manager, chosen)).records as T[];
    } catch (error) {
      const replicated = Boolean((manager.connection.options as { replication?: unknown }).replication);
      if (chosen !== 'slave' || !replicated || manager.queryRunner || databaseFaultOf(error) !== 'unavailable') throw error;
      return (await this.run(statement, parameters, manager, 'master')).records as T[];
    }
  }

  /** A write statement's result (`records` holds what RETURNING returned; `affected`, the row count). */
  private write(statement: Statement, parameters: unknown[], manager = this.repository.manager): Promise<QueryResult> {
    return this.run(statement, parameters, manager, 'master');
  }

  /**
   * One statement through `manager`: its own connection inside a transaction, else a guarded one
   * from the pool; a prepared statement unless turned off or planned on each call.
   */
  private async run(statement: Statement, parameters: unknown[], manager: EntityManager, mode: ReplicationMode): Promise<QueryResult> {
    const statements = await this.statements();
    const sql = statement(statements);
    const execute = statements.plannedEachCall.has(sql)
      ? undefined
      : preparedRunnerOf(manager.connection, statements.dialect, this.prepared);
    const query = execute
      ? (runner: QueryRunner) => executePrepared(runner, execute, sql, parameters, this.timeoutMs)
      : (runner: QueryRunner) => runner.query(sql, parameters, true);
    if (manager.queryRunner) return query(manager.queryRunner);
    if (statements.dialect.embedded) return this.onEmbeddedConnection(manager, mode, query);
    return onPooledConnection(manager.connection, mode, this.timeoutMs, query);
  }

  /** `work` on an embedded database's one connection: nothing to guard (no pool, no socket, synchronous statements). */
  private async onEmbeddedConnection<T>(
    manager: EntityManager,
    mode: ReplicationMode,
    work: (runner: QueryRunner) => Promise<T>,
  ): Promise<T> {
    const runner = manager.connection.createQueryRunner(mode);
    try {
      return await work(runner);
    } finally {
      await runner.release();
    }
  }

  /** `work` in a transaction: the host's (a savepoint in it) with `withManager`, else one of the store's own on a guarded connection. */
  private transaction<T>(work: (transaction: EntityManager) => Promise<T>): Promise<T> {
    const { manager } = this.repository;
    if (manager.queryRunner) return manager.transaction(work);
    return onPooledConnection(manager.connection, 'master', this.timeoutMs, (runner) => runner.manager.transaction(work));
  }
}

/**
 * Whether a constraint's name or text, as the database reports it, names `column` once the
 * table's name is left out (the table is `opportunity_lost_reason`, the column `lost_reason`):
 * PostgreSQL's `opportunity_lost_reason_lost_reason_check`, MariaDB's
 * `opportunity_lost_reason.lost_reason`, SQLite's `length(lost_reason) < 50`, a host's `lost_reason_short`.
 */
function names(constraint: string | undefined, column: string, table: string): boolean {
  if (constraint === undefined) return false;
  const word = new RegExp(`(^|[^a-z0-9])${column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9])`, 'i');
  return word.test(constraint.split(table).join(' '));
}

/** Now, or one millisecond past `previous` when the clock has not moved past it yet. */
const laterThan = (previous: string): string => new Date(Math.max(Date.now(), Date.parse(previous) + 1)).toISOString();
