import { ConflictException, Inject, Injectable, Optional } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Brackets, EntityManager, FindOptionsWhere, QueryFailedError, Repository, SelectQueryBuilder } from 'typeorm';
import {
  CreateLostReasonDto,
  DeletedLostReason,
  ListLostReasonsDto,
  LostReasonList,
  LostReasonObject,
  UpdateLostReasonDto,
} from './dto';
import { InvalidRequestException, LostReasonNotFoundException, noSuchLostReasonMessage } from './exceptions';
import {
  LIST_LIMIT_DEFAULT,
  LOST_REASON_ID_PATTERN,
  LOST_REASON_ID_PREFIX,
  LOST_REASON_REPOSITORY,
  LOST_REASON_RESOLVED_OPTIONS,
} from './lost-reason.constants';
import { LostReason } from './lost-reason.entity';
import { LostReasonHooksDispatcher } from './lost-reason-hooks.dispatcher';
import { ResolvedLostReasonOptions } from './lost-reason.options';
import { isTenantId, storedTenantId } from './lost-reason-tenant-id';
import { isSqlite, isMysqlFamily } from './lost-reason-drivers';
import { validateParams } from './lost-reason.validation';

/** The public columns, in the order of the public object. */
const PUBLIC_COLUMNS = ['id', 'created_at', 'updated_at', 'lost_reason'] as const;

type Row = Pick<LostReason, (typeof PUBLIC_COLUMNS)[number]>;

/**
 * Create, retrieve, list, update and delete opportunity lost reasons. The HTTP routes are a
 * thin layer over this service; hosts inject it to get the same rules and the same objects.
 * Every method validates its input and throws the errors the API answers with.
 */
@Injectable()
export class LostReasonService {
  /** The tenant this instance acts for (see `forTenant`). */
  private readonly tenant?: string;

  constructor(
    @Inject(LOST_REASON_REPOSITORY) protected readonly repository: Repository<LostReason>,
    @Optional() protected readonly hooks?: LostReasonHooksDispatcher,
    @Optional() @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options?: Pick<ResolvedLostReasonOptions, 'multiTenant'>,
  ) {}

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
    const row: Row = { id: this.generateId(), created_at: now, updated_at: now, lost_reason };
    const values = { ...row, tenant_id: this.tenantId };
    await this.repository.createQueryBuilder().insert().values(values).updateEntity(false).execute().catch(rethrowUnstorable);
    const created = toObject(row);
    await this.hooks?.afterCommit(this.repository.manager, 'created', created, this.tenant);
    return created;
  }

  /** The object with this id; `LostReasonNotFoundException` if there is none. */
  async retrieve(id: string): Promise<LostReasonObject> {
    return toObject(await this.findRow(this.repository.manager, id));
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
    const rows: Array<Row & { total: string | number }> = await this.selectPublic()
      .addSelect((count) => this.countOf(count), 'total')
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.seq', 'DESC')
      .limit(limit)
      .offset(offset)
      .getRawMany();
    const total = rows.length > 0 ? Number(rows[0].total) : await this.repository.countBy({ tenant_id: this.tenantId });
    return { data: rows.map(toObject), has_more: offset + rows.length < total, total };
  }

  /** Two statements: the cursor's position (with the total), then the page (one row extra for `has_more`). */
  private async listByCursor(limit: number, cursor: string, param: 'starting_after' | 'ending_before'): Promise<LostReasonList> {
    const position: { created_at: string; seq: number; total: string | number } | undefined = isPossibleId(cursor)
      ? await this.repository
          .createQueryBuilder('r')
          .select('r.created_at', 'created_at')
          .addSelect('r.seq', 'seq')
          .addSelect((count) => this.countOf(count), 'total')
          .where('r.id = :cursor AND r.tenant_id = :tenant', { cursor, tenant: this.tenantId })
          .getRawOne()
      : undefined;
    if (!position) throw new InvalidRequestException(noSuchLostReasonMessage(cursor), param, 'resource_missing');
    // Older than the cursor for starting_after, newer for ending_before (read nearest first).
    // The plain bound on created_at lets the database walk the index as a range from the
    // cursor instead of filtering every row before it.
    const after = param === 'starting_after';
    const [compare, direction] = after ? (['<', 'DESC'] as const) : (['>', 'ASC'] as const);
    const rows: Row[] = await this.selectPublic()
      .andWhere(`r.created_at ${compare}= :createdAt`)
      .andWhere(
        new Brackets((where) =>
          where
            .where(`r.created_at ${compare} :createdAt`)
            .orWhere(`(r.created_at = :createdAt AND r.seq ${compare} :seq)`),
        ),
        { createdAt: position.created_at, seq: position.seq },
      )
      .orderBy('r.created_at', direction)
      .addOrderBy('r.seq', direction)
      .limit(limit + 1)
      .getRawMany();
    const page = rows.slice(0, limit);
    return { data: (after ? page : page.reverse()).map(toObject), has_more: rows.length > limit, total: Number(position.total) };
  }

  /** A query of this tenant's objects, selecting the public columns under their own names. */
  private selectPublic(): SelectQueryBuilder<LostReason> {
    const query = this.repository.createQueryBuilder('r').select([]).where('r.tenant_id = :tenant', { tenant: this.tenantId });
    for (const column of PUBLIC_COLUMNS) query.addSelect(`r.${column}`, column);
    return query;
  }

  /** `(SELECT COUNT(*) …)` of this tenant's objects, to select next to a page. */
  private countOf(count: SelectQueryBuilder<LostReason>): SelectQueryBuilder<LostReason> {
    return count.select('COUNT(*)').from(LostReason, 'c').where('c.tenant_id = :tenant', { tenant: this.tenantId });
  }

  /**
   * Sets the parameters passed (undefined leaves a field as is, `null` clears it) and moves
   * `updated_at` forward, strictly: past the previous value even within one millisecond.
   * Atomic: the answer is this update's own result even when others write the object at the
   * same time.
   */
  async update(id: string, params?: UpdateLostReasonDto): Promise<LostReasonObject> {
    const changes = validateParams(UpdateLostReasonDto, params);
    if (!isPossibleId(id)) throw new LostReasonNotFoundException(id);
    const set: Partial<Row> = {};
    if (changes.lost_reason !== undefined) set.lost_reason = changes.lost_reason;
    const updated = toObject(await this.updateRow(id, set).catch(rethrowUnstorable));
    await this.hooks?.afterCommit(this.repository.manager, 'updated', updated, this.tenant);
    return updated;
  }

  /** Deletes permanently (one DELETE); of concurrent deletes of one object, exactly one succeeds. */
  async delete(id: string): Promise<DeletedLostReason> {
    if (!isPossibleId(id)) throw new LostReasonNotFoundException(id);
    const { affected } = await this.repository.delete(await this.lockableWhere(id));
    if (!affected) throw new LostReasonNotFoundException(id);
    const deleted: DeletedLostReason = { id, deleted: true };
    await this.hooks?.afterCommit(this.repository.manager, 'deleted', deleted, this.tenant);
    return deleted;
  }

  /** A new public id: the prefix and 128 bits from the CSPRNG. */
  protected generateId(): string {
    return LOST_REASON_ID_PREFIX + randomBytes(16).toString('hex');
  }

  /**
   * PostgreSQL and SQLite: `UPDATE … WHERE updated_at < now RETURNING …`, one statement
   * unless the object was written in this very millisecond; then it steps past the stored
   * `updated_at` with a compare-and-set, retried if another update wins the race. (SQLite must
   * not use a transaction here: TypeORM shares one connection between all its concurrent
   * callers, so their statements would interleave inside it.)
   * MySQL/MariaDB, without UPDATE … RETURNING: `SELECT … FOR UPDATE` then `UPDATE` in one
   * transaction.
   */
  protected async updateRow(id: string, set: Partial<Row>): Promise<Row> {
    const { manager } = this.repository;
    const driver = manager.connection.driver;
    if (driver.isReturningSqlSupported('update') || isSqlite(driver.options.type)) {
      const now = new Date().toISOString();
      let row = await this.updateReturning(id, { ...set, updated_at: now }, 'updated_at < :now', { now });
      for (let attempt = 0; row === undefined && attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const { updated_at: previous } = await this.findRow(manager, id);
        const next = { ...set, updated_at: laterThan(previous) };
        row = await this.updateReturning(id, next, 'updated_at = :previous', { previous });
      }
      if (row === undefined) throw new ConflictException('The object is being updated by other requests; retry.');
      return row;
    }
    const where = await this.lockableWhere(id);
    return manager.transaction(async (transaction) => {
      const current = await transaction.findOne(LostReason, { select: [...PUBLIC_COLUMNS], where, lock: { mode: 'pessimistic_write' } });
      if (!current) throw new LostReasonNotFoundException(id);
      const next = { ...set, updated_at: laterThan(current.updated_at) };
      await transaction.update(LostReason, where, next);
      return { ...current, ...next };
    });
  }

  /**
   * The condition that selects this tenant's object `id` for a locking write. On
   * MySQL/MariaDB, a locking statement that finds rows through the `id` index locks that
   * index entry before it checks the tenant: another tenant's id would then wait on the
   * owner's transaction, an answer unlike a missing id's. There the row is found first by a
   * plain read (which takes no lock) and written by primary key.
   */
  private async lockableWhere(id: string): Promise<FindOptionsWhere<LostReason>> {
    const where = { id, tenant_id: this.tenantId };
    if (!isMysqlFamily(this.repository.manager.connection.driver.options.type)) return where;
    const found = await this.repository.findOne({ select: { seq: true }, where });
    if (!found) throw new LostReasonNotFoundException(id);
    return { ...where, seq: found.seq };
  }

  /** One UPDATE … RETURNING (PostgreSQL, SQLite); `undefined` when no row matched. */
  private async updateReturning(id: string, set: Partial<Row>, condition: string, parameters: object): Promise<Row | undefined> {
    const { manager } = this.repository;
    const driver = manager.connection.driver;
    const [sql, values] = manager
      .createQueryBuilder()
      .update(LostReason)
      .set(set)
      .where('id = :id AND tenant_id = :tenant', { id, tenant: this.tenantId })
      .andWhere(condition, parameters)
      .updateEntity(false)
      .getQueryAndParameters();
    const returning = PUBLIC_COLUMNS.map((column) => driver.escape(column)).join(', ');
    // Inside the host's transaction (withManager), use its connection.
    const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
    try {
      const { records } = await runner.query(`${sql} RETURNING ${returning}`, values, true);
      return records[0] as Row | undefined;
    } finally {
      if (!manager.queryRunner) await runner.release();
    }
  }

  private async findRow(manager: EntityManager, id: string): Promise<Row> {
    const row = isPossibleId(id)
      ? await manager.findOne(LostReason, { select: [...PUBLIC_COLUMNS], where: { id, tenant_id: this.tenantId } })
      : null;
    if (!row) throw new LostReasonNotFoundException(id);
    return row;
  }
}

/** Compare-and-set attempts of one update before answering 409 (only under heavy contention). */
const MAX_UPDATE_ATTEMPTS = 50;

/** Only ids of the module's own shape can exist: anything else is answered without a query. */
const isPossibleId = (id: unknown): id is string => typeof id === 'string' && LOST_REASON_ID_PATTERN.test(id);

/** Now, or one millisecond past `previous` when the clock has not moved past it yet. */
const laterThan = (previous: string): string => new Date(Math.max(Date.now(), Date.parse(previous) + 1)).toISOString();

/**
 * A database whose character set cannot hold some characters (a latin1 MySQL table, a
 * non-UTF-8 PostgreSQL database) rejects them on write: that is the client's 400, not a 500.
 */
function rethrowUnstorable(error: unknown): never {
  const driverError = (error instanceof QueryFailedError ? error.driverError : undefined) as { code?: string; errno?: number } | undefined;
  const unstorable = driverError?.errno === 1366 || driverError?.code === '22021' || driverError?.code === '22P05';
  if (unstorable) throw new InvalidRequestException("lost_reason contains characters this database's character set cannot store", 'lost_reason');
  throw error;
}


/** The public object: exactly the contract's fields, in the contract's order. */
function toObject({ id, created_at, updated_at, lost_reason }: Row): LostReasonObject {
  return { id, created_at, updated_at, lost_reason: lost_reason ?? null };
}
