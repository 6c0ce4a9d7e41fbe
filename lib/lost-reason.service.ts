import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { randomBytesFromPool } from './common/random-bytes.util';
import { EntityManager, QueryResult, ReplicationMode, Repository } from 'typeorm';
import { CreateLostReasonDto, DeletedLostReason, ListLostReasonsDto, LostReasonList, LostReasonObject, UpdateLostReasonDto } from './dto';
import { InvalidRequestException, LostReasonNotFoundException, noSuchLostReasonMessage } from './errors';
import {
  LIST_LIMIT_DEFAULT,
  LOST_REASON_ID_PATTERN,
  LOST_REASON_ID_PREFIX,
  LOST_REASON_REPOSITORY,
  LOST_REASON_RESOLVED_OPTIONS,
} from './lost-reason.constants';
import { LostReason } from './persistence/lost-reason.entity';
import { LostReasonHooksDispatcher } from './hooks/hooks.dispatcher';
import { ResolvedLostReasonOptions } from './lost-reason.options';
import { isTenantId, storedTenantId } from './tenancy/tenant-id.util';
import { driverErrorOf, isMysqlFamily } from './persistence/drivers.util';
import { onPooledConnection } from './common/deadline.util';
import { LostReasonRow, LostReasonStatements } from './persistence/lost-reason.statements';
import { validateParams } from './dto/params.validator';

/**
 * Create, retrieve, list, update and delete opportunity lost reasons. The HTTP routes are a
 * thin layer over this service; hosts inject it to get the same rules and the same objects.
 * Every method validates its input and throws the errors the API answers with.
 */
@Injectable()
export class LostReasonService implements OnModuleInit {
  /** The tenant this instance acts for (see `forTenant`). */
  private readonly tenant?: string;

  constructor(
    @Inject(LOST_REASON_REPOSITORY) protected readonly repository: Repository<LostReason>,
    @Optional() protected readonly hooks?: LostReasonHooksDispatcher,
    @Optional()
    @Inject(LOST_REASON_RESOLVED_OPTIONS)
    private readonly options?: Pick<ResolvedLostReasonOptions, 'multiTenant'> &
      Partial<Pick<ResolvedLostReasonOptions, 'requestTimeoutMs'>>,
  ) {}

  /**
   * Prepares the statements (and looks up the count table) before the first request, so no
   * request pays for it. If the database is unreachable now, the first call retries.
   */
  async onModuleInit(): Promise<void> {
    await LostReasonStatements.of(this.repository.metadata).catch(() => undefined);
  }

  /**
   * This service acting for one tenant: it sees, changes and lists only that tenant's objects,
   * and another tenant's id is a 404 like an id that never existed. With tenancy on, every
   * call must go through it, so host code cannot forget the tenant:
   *
   * ```ts
   * await lostReasons.forTenant(account.id).create({ lost_reason: 'Budget cut' });
   * ```
   */
  forTenant(tenant: string): this {
    if (!this.options?.multiTenant) throw new Error('LostReasonService.forTenant: tenancy is off for this module.');
    if (!isTenantId(tenant)) throw new Error('LostReasonService.forTenant: a tenant is a non-empty string of at most 64 bytes (UTF-8).');
    return Object.create(this, { tenant: { value: tenant } }) as this;
  }

  /**
   * This service working through `manager`, typically the host's transaction:
   *
   * ```ts
   * await dataSource.transaction(async (manager) => {
   *   await lostReasons.withManager(manager).create({ lost_reason: 'Budget cut' });
   *   await manager.save(opportunity); // if this throws, the lost reason is rolled back too
   * });
   * ```
   * Hooks of writes made this way run once that transaction commits.
   */
  withManager(manager: EntityManager): this {
    return Object.create(this, { repository: { value: manager.getRepository(LostReason) } }) as this;
  }

  /** The stored tenant of this instance's objects (`storedTenantId`): `''` when tenancy is off. */
  protected get tenantId(): string {
    if (!this.options?.multiTenant) return '';
    if (this.tenant === undefined) throw new Error('LostReasonService: tenancy is on; call forTenant(tenant) first.');
    return storedTenantId(this.tenant);
  }

  /** Creates an object with a fresh id (one INSERT). */
  async create(params?: CreateLostReasonDto): Promise<LostReasonObject> {
    const { lost_reason = null } = validateParams(CreateLostReasonDto, params);
    const now = new Date().toISOString();
    const row: LostReasonRow = { id: this.generateId(), created_at: now, updated_at: now, lost_reason };
    await this.write((sql) => sql.insert, [this.tenantId, row.id, now, now, lost_reason]).catch(rethrowUnstorable);
    const created = toObject(row);
    await this.hooks?.afterCommit(this.repository.manager, 'created', created, this.tenant);
    return created;
  }

  /** The object with this id; `LostReasonNotFoundException` if there is none. */
  async retrieve(id: string): Promise<LostReasonObject> {
    return toObject(await this.findRow(id));
  }

  /**
   * One page, newest first (by `created_at`, then insertion order).
   *
   * With `offset`, the page and `total` come from one statement, so they agree even while
   * others write; a page past the end costs a second (COUNT) statement. With a cursor
   * (`starting_after` / `ending_before`, an object id), the page is the objects right after or
   * before that object's position: concurrent inserts and deletes elsewhere never make a walk
   * repeat or skip an object. An unknown cursor id is a 400 naming the parameter.
   */
  async list(params?: ListLostReasonsDto): Promise<LostReasonList> {
    const { limit = LIST_LIMIT_DEFAULT, offset, starting_after, ending_before } = validateParams(ListLostReasonsDto, params);
    if (starting_after !== undefined && ending_before !== undefined) {
      throw new InvalidRequestException('Pass only one of starting_after and ending_before.', 'ending_before');
    }
    const cursor = starting_after ?? ending_before;
    if (cursor === undefined) return this.listByOffset(limit, offset ?? 0);
    if (offset !== undefined) {
      throw new InvalidRequestException('offset cannot be combined with starting_after or ending_before.', 'offset');
    }
    return this.listByCursor(limit, cursor, starting_after !== undefined ? 'starting_after' : 'ending_before');
  }

  private async listByOffset(limit: number, offset: number): Promise<LostReasonList> {
    const tenant = this.tenantId;
    const rows =
      offset === 0
        ? await this.read<PageRow>((sql) => sql.firstPage, [tenant, tenant, limit])
        : await this.read<PageRow>((sql) => sql.pageAtOffset, [tenant, tenant, limit, offset]);
    const total = Number(
      rows.length > 0 ? rows[0].total : (await this.read<{ total: string | number }>((sql) => sql.count, [tenant]))[0].total,
    );
    return { data: rows.map(toObject), has_more: offset + rows.length < total, total };
  }

  /** Two statements: the cursor's position (with the total), then the page (one row extra for `has_more`). */
  private async listByCursor(limit: number, cursor: string, param: 'starting_after' | 'ending_before'): Promise<LostReasonList> {
    const tenant = this.tenantId;
    const [position] = isPossibleId(cursor)
      ? await this.read<{ created_at: string; seq: number; total: string | number }>((sql) => sql.cursorPosition, [tenant, cursor, tenant])
      : [];
    if (!position) throw new InvalidRequestException(noSuchLostReasonMessage(cursor), param, 'resource_missing');
    // Older than the cursor for starting_after, newer for ending_before (read nearest first).
    const direction = param === 'starting_after' ? 'after' : 'before';
    const { created_at, seq } = position;
    const rows = await this.read<LostReasonRow>(
      (sql) => sql.pageNextTo[direction],
      [tenant, created_at, created_at, created_at, seq, limit + 1],
    );
    const page = rows.slice(0, limit);
    return {
      data: (direction === 'after' ? page : page.reverse()).map(toObject),
      has_more: rows.length > limit,
      total: Number(position.total),
    };
  }

  /**
   * Sets the parameters passed (undefined leaves a field as is, `null` clears it) and moves
   * `updated_at` forward, strictly: past the previous value even within one millisecond.
   * Atomic: the answer is this update's own result even when others write the object at the
   * same time.
   */
  async update(id: string, params?: UpdateLostReasonDto): Promise<LostReasonObject> {
    const { lost_reason } = validateParams(UpdateLostReasonDto, params);
    if (!isPossibleId(id)) throw new LostReasonNotFoundException(id);
    const updated = toObject(await this.updateRow(id, lost_reason).catch(rethrowUnstorable));
    await this.hooks?.afterCommit(this.repository.manager, 'updated', updated, this.tenant);
    return updated;
  }

  /** Deletes permanently (one DELETE); of concurrent deletes of one object, exactly one succeeds. */
  async delete(id: string): Promise<DeletedLostReason> {
    if (!isPossibleId(id)) throw new LostReasonNotFoundException(id);
    const { affected } = this.findsRowsFirst
      ? await this.write((sql) => sql.deleteBySeq, [(await this.findRow(id, 'master')).seq, this.tenantId])
      : await this.write((sql) => sql.delete, [id, this.tenantId]);
    if (!affected) throw new LostReasonNotFoundException(id);
    const deleted: DeletedLostReason = { id, deleted: true };
    await this.hooks?.afterCommit(this.repository.manager, 'deleted', deleted, this.tenant);
    return deleted;
  }

  /** A new public id: the prefix and 128 bits from the CSPRNG. */
  protected generateId(): string {
    return LOST_REASON_ID_PREFIX + randomBytesFromPool(16).toString('hex');
  }

  /**
   * PostgreSQL and SQLite: one `UPDATE … RETURNING …` that steps `updated_at` past the stored
   * value in the database itself, so concurrent updates of one object each get their own, later
   * `updated_at` and none is refused. (SQLite must not use a transaction here: TypeORM shares one
   * connection between all its concurrent callers, so their statements would interleave in it.)
   * MySQL/MariaDB, without UPDATE … RETURNING: a plain read, then an `UPDATE` by primary key
   * if `updated_at` is still the one read; when another write came in between, `SELECT … FOR
   * UPDATE` then `UPDATE` in one transaction.
   */
  protected async updateRow(id: string, lostReason: string | null | undefined): Promise<LostReasonRow> {
    const set = lostReason === undefined ? [] : [lostReason];
    const changed = lostReason === undefined ? {} : { lost_reason: lostReason };
    const variant = lostReason === undefined ? 'timestampOnly' : 'withLostReason';
    const tenant = this.tenantId;
    if (this.findsRowsFirst) {
      // A plain read, then a compare-and-set by primary key: two statements, no lock held.
      const current = await this.findRow(id, 'master');
      const updatedAt = laterThan(current.updated_at);
      const { affected } = await this.write(
        (sql) => sql.updateBySeqIfUnchanged[variant],
        [updatedAt, ...set, current.seq, tenant, current.updated_at],
      );
      if (affected) return { ...current, updated_at: updatedAt, ...changed };
      // Another write came first: lock the row and write on what it holds now. (Retrying the
      // plain read would not do inside a host's REPEATABLE READ transaction: it would see the
      // same old snapshot every time.)
      return this.transaction(async (transaction) => {
        const [locked] = await this.read<LostReasonRow>((sql) => sql.lockBySeq, [current.seq, tenant], { manager: transaction });
        if (!locked) throw new LostReasonNotFoundException(id);
        const next = laterThan(locked.updated_at);
        await this.write((sql) => sql.updateBySeq[variant], [next, ...set, current.seq, tenant], transaction);
        return { ...locked, updated_at: next, ...changed };
      });
    }
    const [row] = (await this.write((sql) => sql.updateAdvancing[variant], [new Date().toISOString(), ...set, id, tenant]))
      .records as LostReasonRow[];
    if (row === undefined) throw new LostReasonNotFoundException(id);
    return row;
  }

  /**
   * MySQL/MariaDB: a locking statement that finds rows through the `id` index locks that index
   * entry before it checks the tenant, so another tenant's id would wait on the owner's
   * transaction, an answer unlike a missing id's. There writes find the row first by a plain
   * read (which takes no lock) and then write it by primary key.
   */
  private get findsRowsFirst(): boolean {
    return isMysqlFamily(this.repository.manager.connection.driver.options.type);
  }

  /**
   * This tenant's object `id` with its primary key; a 404 without a query for an impossible
   * id. `'master'` for the reads a write depends on (MySQL/MariaDB find the row first: see
   * `findsRowsFirst`).
   */
  private async findRow(id: string, mode?: ReplicationMode): Promise<LostReasonRow & { seq: number }> {
    const [row] = isPossibleId(id)
      ? await this.read<LostReasonRow & { seq: number }>((sql) => sql.retrieve, [id, this.tenantId], { mode })
      : [];
    if (!row) throw new LostReasonNotFoundException(id);
    return row;
  }

  /**
   * The rows of a SELECT: on replicas when the host has them (unless inside a transaction), or
   * on the primary (`'master'`) for the reads a write depends on, which must not lag.
   */
  private async read<T>(
    statement: Statement,
    parameters: unknown[],
    { manager = this.repository.manager, mode }: { manager?: EntityManager; mode?: ReplicationMode } = {},
  ): Promise<T[]> {
    return (await this.run(statement, parameters, manager, mode ?? manager.connection.defaultReplicationModeForReads())).records as T[];
  }

  /** A write statement's result (`records` holds what RETURNING returned; `affected`, the row count). */
  private write(statement: Statement, parameters: unknown[], manager = this.repository.manager): Promise<QueryResult> {
    return this.run(statement, parameters, manager, 'master');
  }

  /**
   * One statement through `manager`: its own connection inside a transaction (`withManager`),
   * else one from the pool, closed if the statement outlives the request deadline
   * (`onPooledConnection`).
   */
  private async run(statement: Statement, parameters: unknown[], manager: EntityManager, mode: ReplicationMode): Promise<QueryResult> {
    const sql = statement(await LostReasonStatements.of(this.repository.metadata));
    if (manager.queryRunner) return manager.queryRunner.query(sql, parameters, true);
    return onPooledConnection(manager.connection, mode, this.options?.requestTimeoutMs, (runner) => runner.query(sql, parameters, true));
  }

  /** `work` in a transaction: the host's (a savepoint in it) with `withManager`, else one of the module's own on a guarded connection. */
  private transaction<T>(work: (transaction: EntityManager) => Promise<T>): Promise<T> {
    const { manager } = this.repository;
    if (manager.queryRunner) return manager.transaction(work);
    return onPooledConnection(manager.connection, 'master', this.options?.requestTimeoutMs, (runner) => runner.manager.transaction(work));
  }
}

/** A row of a page by offset: the object's columns and the tenant's total. */
type PageRow = LostReasonRow & { total: string | number };

/** Picks one of the prepared statements. */
type Statement = (statements: LostReasonStatements) => string;

/** Only ids of the module's own shape can exist: anything else is answered without a query. */
const isPossibleId = (id: unknown): id is string => typeof id === 'string' && LOST_REASON_ID_PATTERN.test(id);

/** Now, or one millisecond past `previous` when the clock has not moved past it yet. */
const laterThan = (previous: string): string => new Date(Math.max(Date.now(), Date.parse(previous) + 1)).toISOString();

/**
 * A database whose character set cannot hold some characters (a latin1 MySQL table, a
 * non-UTF-8 PostgreSQL database) rejects them on write: that is the client's 400, not a 500.
 */
function rethrowUnstorable(error: unknown): never {
  const driverError = driverErrorOf(error);
  const unstorable = driverError?.errno === 1366 || driverError?.code === '22021' || driverError?.code === '22P05';
  if (unstorable)
    throw new InvalidRequestException("lost_reason contains characters this database's character set cannot store", 'lost_reason');
  throw error;
}

/** The public object: exactly the contract's fields, in the contract's order. */
function toObject({ id, created_at, updated_at, lost_reason }: LostReasonRow): LostReasonObject {
  return { id, created_at, updated_at, lost_reason: lost_reason ?? null };
}
