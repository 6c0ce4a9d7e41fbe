import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { EntityManager, Repository } from 'typeorm';
import { randomHex } from '../common/random-bytes.util';
import { CreateLostReasonDto, DeletedLostReason, ListLostReasonsDto, LostReasonList, LostReasonObject, UpdateLostReasonDto } from '../dto';
import { ParamsValidator, RepeatedParamsValidator, Validated } from '../dto/params.validator';
import {
  InvalidRequestException,
  LostReasonAlreadyExistsException,
  LostReasonConstraintException,
  LostReasonInUseException,
  LostReasonNotFoundException,
  noSuchLostReasonMessage,
} from '../errors';
import { LostReasonHooksDispatcher } from '../hooks/hooks.dispatcher';
import {
  LIST_LIMIT_DEFAULT,
  LIST_OFFSET_MAX,
  LOST_REASON_ID_PATTERN,
  LOST_REASON_ID_PREFIX,
  LOST_REASON_REPOSITORY,
  LOST_REASON_RESOLVED_OPTIONS,
} from '../common/lost-reason.constants';
import { ResolvedLostReasonOptions } from '../interfaces/resolved-lost-reason-options.interface';
import { dialectOf } from '../persistence/dialects/dialect.registry';
import { LostReason } from '../persistence/lost-reason.entity';
import { LostReasonRow } from '../persistence/lost-reason.statements';
import { LostReasonStore, StoredLostReason } from '../persistence/lost-reason.store';
import { isTenantId, storedTenantId } from '../tenancy/tenant-id.util';

/**
 * Create, retrieve, list, update and delete opportunity lost reasons. The HTTP routes are a
 * thin layer over this service; hosts inject it to get the same rules and the same objects.
 * Every method validates its input and throws the errors the API answers with.
 *
 * The rules of the resource live here (ids, timestamps, paging, not-found); the SQL and how
 * each database runs it live in the store and its dialect. Hosts extend the module by
 * injecting this service (and by hooks), not by subclassing it: its members are private.
 */
@Injectable()
export class LostReasonService implements OnModuleInit {
  /** The tenant this instance acts for (see `forTenant`). */
  private readonly tenant?: string;
  private readonly store: LostReasonStore;
  /** The checks of each operation's parameters (the list's with its memo), shared by this service's views. */
  private readonly checks = {
    create: new ParamsValidator(CreateLostReasonDto),
    update: new ParamsValidator(UpdateLostReasonDto),
    list: new RepeatedParamsValidator(ListLostReasonsDto),
  };

  constructor(
    @Inject(LOST_REASON_REPOSITORY) repository: Repository<LostReason>,
    @Optional() private readonly hooks?: LostReasonHooksDispatcher,
    @Optional()
    @Inject(LOST_REASON_RESOLVED_OPTIONS)
    private readonly options?: Pick<ResolvedLostReasonOptions, 'multiTenant'> &
      Partial<Pick<ResolvedLostReasonOptions, 'requestTimeoutMs' | 'preparedStatements'>>,
  ) {
    this.store = new LostReasonStore(repository, options?.requestTimeoutMs, options?.preparedStatements);
  }

  /**
   * Fails the start-up on a database the module does not support, and prepares the statements
   * (and looks up the count table) before the first request, so no request pays for it. If the
   * database is unreachable now, the first call retries.
   */
  async onModuleInit(): Promise<void> {
    dialectOf(this.store.manager.connection);
    await this.store.prepare().catch(() => undefined);
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
    return this.view({ tenant });
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
    return this.view({ store: this.store.withManager(manager) });
  }

  /**
   * A copy of this service that holds every field itself, with `changes` applied. Not a
   * prototype view of `this`: hosts' instrumentation (`@nestjs/observe`, OpenTelemetry) wraps
   * providers in proxies that read members from the wrapped instance, so a view inheriting from
   * the proxy would lose its tenant or its manager.
   */
  private view(changes: { tenant?: string; store?: LostReasonStore }): this {
    const { store, hooks, options, tenant, checks } = this;
    return Object.assign(Object.create(LostReasonService.prototype) as this, { store, hooks, options, tenant, checks }, changes);
  }

  /**
   * Creates an object with a fresh id (one INSERT). A host's unique index on `lost_reason`
   * refusing it: `LostReasonAlreadyExistsException`; another of its constraints:
   * `LostReasonConstraintException`.
   */
  async create(params?: CreateLostReasonDto): Promise<LostReasonObject> {
    return this.createValidated(this.checks.create.validate(params));
  }

  /**
   * `create` of parameters checked already, so they are checked once per request: the module's
   * route with an `Idempotency-Key`, whose protocol checks them before it claims the key. Hosts
   * call `create` (only the module's validation gives a `Validated` value).
   */
  async createValidated(params: Validated<CreateLostReasonDto>): Promise<LostReasonObject> {
    const { lost_reason = null } = params;
    const now = new Date().toISOString();
    const row: LostReasonRow = { id: this.generateId(), created_at: now, updated_at: now, lost_reason };
    await this.store.insert(this.tenantId, row).catch((error) => this.rethrowRefused(error));
    const created = toObject(row);
    await this.hooks?.afterCommit(this.store.manager, 'created', created, this.tenant);
    return created;
  }

  /** The object with this id; `LostReasonNotFoundException` if there is none. */
  async retrieve(id: string): Promise<LostReasonObject> {
    const row = isPossibleId(id) ? await this.store.find(this.tenantId, id) : undefined;
    if (!row) throw new LostReasonNotFoundException(id);
    return toObject(row);
  }

  /**
   * One page, newest first (by `created_at`, then primary key: insertion order on one server).
   *
   * With `offset`, the page and `total` come from one statement, so they agree even while
   * others write; a page past the end costs a second (COUNT) statement. An offset past
   * `LIST_OFFSET_MAX` that falls inside the list is a 400 pointing to `starting_after`. With a cursor
   * (`starting_after` / `ending_before`, an object id), the page is the objects right after or
   * before that object's position: concurrent inserts and deletes elsewhere never make a walk
   * repeat or skip an object. An unknown cursor id is a 400 naming the parameter.
   */
  async list(params?: ListLostReasonsDto): Promise<LostReasonList> {
    const { limit = LIST_LIMIT_DEFAULT, offset, starting_after, ending_before } = this.checks.list.validate(params);
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

  /**
   * Sets the parameters passed (undefined leaves a field as is, `null` clears it) and moves
   * `updated_at` forward, strictly: past the previous value even within one millisecond.
   * Atomic: the answer is this update's own result even when others write the object at the
   * same time. A host's constraint refusing it: as `create`.
   */
  async update(id: string, params?: UpdateLostReasonDto): Promise<LostReasonObject> {
    const { lost_reason } = this.checks.update.validate(params);
    if (!isPossibleId(id)) throw new LostReasonNotFoundException(id);
    const row = await this.store.update(this.tenantId, id, lost_reason).catch((error) => this.rethrowRefused(error));
    if (!row) throw new LostReasonNotFoundException(id);
    const updated = toObject(row);
    await this.hooks?.afterCommit(this.store.manager, 'updated', updated, this.tenant);
    return updated;
  }

  /**
   * Deletes permanently (one DELETE); of concurrent deletes of one object, exactly one succeeds.
   * An object that a host's foreign key references (`ON DELETE RESTRICT` or `NO ACTION`) is kept:
   * `LostReasonInUseException`.
   */
  async delete(id: string): Promise<DeletedLostReason> {
    const deleted = isPossibleId(id) && (await this.store.delete(this.tenantId, id).catch((error) => this.rethrowRefused(error, id)));
    if (!deleted) throw new LostReasonNotFoundException(id);
    const answer: DeletedLostReason = { id, deleted: true };
    await this.hooks?.afterCommit(this.store.manager, 'deleted', answer, this.tenant);
    return answer;
  }

  /** The stored tenant of this instance's objects (`storedTenantId`): `''` when tenancy is off. */
  private get tenantId(): string {
    if (!this.options?.multiTenant) return '';
    if (this.tenant === undefined) throw new Error('LostReasonService: tenancy is on; call forTenant(tenant) first.');
    return storedTenantId(this.tenant);
  }

  /** A new public id: the prefix and 128 bits from the CSPRNG. */
  private generateId(): string {
    return LOST_REASON_ID_PREFIX + randomHex(16);
  }

  private async listByOffset(limit: number, offset: number): Promise<LostReasonList> {
    const tenant = this.tenantId;
    // A database walks every skipped row: past LIST_OFFSET_MAX, one client's lists would cost
    // everyone (issue: a noisy tenant). Past the end, the page is empty whatever the offset.
    if (offset > LIST_OFFSET_MAX) {
      const total = await this.store.count(tenant);
      if (offset < total) {
        throw new InvalidRequestException(
          `offset can be at most ${LIST_OFFSET_MAX}; to page further, pass starting_after with the id of the last object of the page before.`,
          'offset',
        );
      }
      return { data: [], has_more: false, total };
    }
    const rows = await this.store.pageAtOffset(tenant, limit, offset);
    const total = rows.length > 0 ? Number(rows[0].total) : await this.store.count(tenant);
    return { data: rows.map(toObject), has_more: offset + rows.length < total, total };
  }

  /** Two statements: the cursor's position (with the total), then the page (one row extra for `has_more`). */
  private async listByCursor(limit: number, cursor: string, param: 'starting_after' | 'ending_before'): Promise<LostReasonList> {
    const tenant = this.tenantId;
    const position = isPossibleId(cursor) ? await this.store.cursorPosition(tenant, cursor) : undefined;
    if (!position) throw new InvalidRequestException(noSuchLostReasonMessage(cursor), param, 'resource_missing');
    // Older than the cursor for starting_after, newer for ending_before (read nearest first).
    const direction = param === 'starting_after' ? 'after' : 'before';
    const rows = await this.store.pageNextTo(tenant, direction, position, limit + 1);
    const page = rows.slice(0, limit);
    return {
      data: (direction === 'after' ? page : page.reverse()).map(toObject),
      has_more: rows.length > limit,
      total: Number(position.total),
    };
  }

  /**
   * The database refused the write for the data rather than failing: the client's 400, not a 500.
   * A character set that cannot hold some characters (a latin1 MySQL table, a non-UTF-8
   * PostgreSQL database), or a constraint the host declared on the module's table or a foreign
   * key it declared to it (docs/service.md). `deleting`: the id of a delete, which a foreign key
   * refuses because the object is referenced.
   */
  private rethrowRefused(error: unknown, deleting?: string): never {
    const refusal = this.store.refusalOf(error);
    if (refusal === undefined) throw error;
    if (refusal.kind === 'unstorable') {
      throw new InvalidRequestException("lost_reason contains characters this database's character set cannot store", 'lost_reason');
    }
    if (deleting !== undefined && refusal.kind === 'foreign-key') throw new LostReasonInUseException(deleting, { cause: error });
    if (deleting === undefined && refusal.kind === 'duplicate') throw new LostReasonAlreadyExistsException({ cause: error });
    throw new LostReasonConstraintException(deleting === undefined ? refusal.column : undefined, { cause: error });
  }
}

/** Only ids of the module's own shape can exist: anything else is answered without a query. */
const isPossibleId = (id: unknown): id is string => typeof id === 'string' && LOST_REASON_ID_PATTERN.test(id);

/** The public object: exactly the contract's fields, in the contract's order. */
function toObject({ id, created_at, updated_at, lost_reason }: LostReasonRow | StoredLostReason): LostReasonObject {
  return { id, created_at, updated_at, lost_reason: lost_reason ?? null };
}
