import { HttpStatus, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { CreateLostReasonDto } from '../dto';
import { validateParams } from '../dto/params.validator';
import { IdempotencyException } from '../errors';
import { LOST_REASON_RESOLVED_OPTIONS } from '../lost-reason.constants';
import { ResolvedLostReasonOptions } from '../lost-reason.options';
import { LostReasonDialect } from '../persistence/dialects/dialect.interface';
import { dialectOf, driverErrorOf } from '../persistence/dialects/dialect.registry';
import { onPooledConnection } from '../persistence/pooled-connection.util';
import { storedTenantId } from '../tenancy/tenant-id.util';
import { LostReasonIdempotencyKey } from './idempotency-key.entity';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_LOCK_TIMEOUT_MS,
  IDEMPOTENCY_KEY_TTL_MS,
  PRUNE_INTERVAL_MS,
  RELEASE_RETRY_MS,
} from './idempotency.constants';
import { keyIdOf, requestHashesOf } from './request-hash.util';

/** Injection token of the idempotency keys' repository on the host's chosen data source (internal). */
export const LOST_REASON_IDEMPOTENCY_REPOSITORY = Symbol('LOST_REASON_IDEMPOTENCY_REPOSITORY');

/** A stored or just-produced answer of `POST`. */
export interface IdempotentResult<T = unknown> {
  status: number;
  body: T;
  /** True when `body` is the stored answer of an earlier request with the same key. */
  replayed: boolean;
}

/** The first request with a key no longer holds it: someone took over a key it held too long. */
class LostClaim extends Error {}

type StoredKey = Pick<LostReasonIdempotencyKey, 'request_hash' | 'status' | 'response' | 'created_at'>;

/**
 * Safe retries of `POST` (Stripe's `Idempotency-Key`), stored in the host's database so that
 * they hold across every process of the app.
 *
 * A request with a key first claims it with one INSERT (the table's primary key makes exactly
 * one of concurrent claims win, in any number of processes). The winner creates the object and
 * stores its answer on the claim; the others are answered from the stored row: 409 while the
 * winner runs, the stored answer (`Idempotent-Replayed: true`) once it has finished, 400 when
 * the key came with other parameters.
 *
 * On PostgreSQL and MySQL/MariaDB the object's INSERT and the stored answer commit together in
 * one transaction, conditional on the claim still being this request's: an object never exists
 * without its key's answer, whatever fails and whenever. On SQLite (TypeORM shares one connection
 * between all callers, so the module opens no transactions there) they are two statements on an
 * embedded database.
 */
@Injectable()
export class LostReasonIdempotency implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('LostReasonModule');
  /** When this process deletes expired keys next (epoch ms). */
  private nextPruneAt = 0;
  private pruning?: Promise<void>;
  /**
   * Claims of failed requests that could not be deleted (the database was failing too), by claim
   * id: their creation time. Retried in the background until the database answers, and taken
   * over at once by a retry of the same key, so the key is free as soon as the database is back.
   */
  private readonly unreleased = new Map<string, string>();
  private releaseTimer?: NodeJS.Timeout;
  private releasing?: Promise<void>;
  private destroyed = false;

  constructor(
    @Inject(LOST_REASON_IDEMPOTENCY_REPOSITORY) private readonly repository: Repository<LostReasonIdempotencyKey>,
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: Pick<ResolvedLostReasonOptions, 'requestTimeoutMs'>,
  ) {}

  private get dialect(): LostReasonDialect {
    return dialectOf(this.repository.manager.connection);
  }

  /** A host that lists its entities without this one still starts; it is told what to add. */
  onModuleInit(): void {
    if (!this.repository.manager.connection.hasMetadata(LostReasonIdempotencyKey)) {
      this.logger.warn(
        `The entity LostReasonIdempotencyKey is not registered on the data source: requests with an ${IDEMPOTENCY_KEY_HEADER} will fail. ` +
          'List LOST_REASON_ENTITIES in its entities (or use autoLoadEntities: true).',
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    clearTimeout(this.releaseTimer);
    await Promise.all([this.pruning, this.releasing]); // before the host closes the connection
  }

  /**
   * Runs `create` at most once per (tenant, key) and parameters, answering retries with its
   * stored answer. The parameters are validated first, so a request refused for them stores
   * nothing and a corrected retry with the same key goes through (parameters the caller has
   * validated already are not checked again). `create` receives the transaction's manager where
   * the dialect opens the module's own transactions, nothing elsewhere (SQLite). `tenant`: the
   * request's tenant, `''` without tenancy.
   */
  async run<T>(
    tenant: string,
    key: string,
    params: unknown,
    create: (manager?: EntityManager) => Promise<T>,
  ): Promise<IdempotentResult<T>> {
    const { lost_reason = null } = validateParams(CreateLostReasonDto, params);
    const id = keyIdOf(tenant, key);
    const { current: requestHash, earlier: earlierHash } = requestHashesOf(lost_reason);
    // A claim lost to a concurrent request or a deleted expired row costs one more round.
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimedAt = new Date().toISOString();
      if (
        await this.claim({
          id,
          tenant_id: storedTenantId(tenant),
          idempotency_key: key,
          request_hash: requestHash,
          status: null,
          response: null,
          created_at: claimedAt,
        })
      ) {
        this.pruneSometimes();
        const body = await this.execute(id, claimedAt, create);
        return { status: HttpStatus.CREATED, body, replayed: false };
      }
      const stored = await this.find(id);
      if (stored === undefined) continue; // released or pruned in between
      const abandonedHere = stored.status === null && this.unreleased.get(id) === stored.created_at;
      if (abandonedHere || this.isStale(stored)) {
        // Conditional on what made it stale: a claim that completes meanwhile is kept.
        await this.guarded((keys) =>
          keys.delete({ id, created_at: stored.created_at, ...(stored.status === null && { status: IsNull() }) }),
        );
        if (abandonedHere) this.forgetUnreleased(id, stored.created_at);
        continue;
      }
      if (stored.request_hash !== requestHash && stored.request_hash !== earlierHash) {
        throw new IdempotencyException(
          HttpStatus.BAD_REQUEST,
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Use another ${IDEMPOTENCY_KEY_HEADER} for a different request.`,
        );
      }
      if (stored.status === null || stored.response === null) throw inUse();
      return { status: stored.status, body: JSON.parse(stored.response) as T, replayed: true };
    }
    throw inUse();
  }

  /**
   * Deletes keys older than `IDEMPOTENCY_KEY_TTL_MS` (one DELETE on the `created_at` index);
   * the module calls it by itself at most once a minute per process.
   */
  async pruneExpired(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - IDEMPOTENCY_KEY_TTL_MS).toISOString();
    const { affected } = await this.guarded((keys) =>
      keys.createQueryBuilder().delete().where('created_at < :cutoff', { cutoff }).execute(),
    );
    return affected ?? 0;
  }

  /** One INSERT; false when the key is already taken. */
  private async claim(row: LostReasonIdempotencyKey): Promise<boolean> {
    try {
      await this.guarded((keys) => keys.createQueryBuilder().insert().values(row).updateEntity(false).execute());
      return true;
    } catch (error) {
      const driverError = driverErrorOf(error);
      if (driverError && this.dialect.isDuplicate(driverError)) return false;
      throw error;
    }
  }

  private async find(id: string): Promise<StoredKey | undefined> {
    const row = await this.guarded((keys) =>
      keys.findOne({ select: { request_hash: true, status: true, response: true, created_at: true }, where: { id } }),
    );
    return row ?? undefined;
  }

  /** Expired, or held by a request that has not finished for longer than any request should take. */
  private isStale({ status, created_at }: Pick<StoredKey, 'status' | 'created_at'>): boolean {
    const age = Date.now() - Date.parse(created_at);
    const lockTimeout = Math.max(IDEMPOTENCY_KEY_LOCK_TIMEOUT_MS, 2 * this.options.requestTimeoutMs);
    return age > IDEMPOTENCY_KEY_TTL_MS || (status === null && age > lockTimeout);
  }

  /** Creates, and stores the answer on this request's claim; on failure, gives the key back. */
  private async execute<T>(id: string, claimedAt: string, create: (manager?: EntityManager) => Promise<T>): Promise<T> {
    const { manager } = this.repository;
    if (!this.dialect.ownTransactions) {
      let body: T;
      try {
        body = await create();
      } catch (error) {
        await this.release(id, claimedAt);
        throw error;
      }
      // Created: from here on the key is kept even if storing the answer fails, so a retry is
      // told the key is in use rather than creating a second object.
      if (!(await this.complete(manager, id, claimedAt, body)))
        this.logger.warn(`An ${IDEMPOTENCY_KEY_HEADER} was taken over while its request was running.`);
      return body;
    }
    try {
      return await this.guarded((keys) =>
        keys.manager.transaction(async (transaction) => {
          const body = await create(transaction);
          if (!(await this.complete(transaction, id, claimedAt, body))) throw new LostClaim();
          return body;
        }),
      );
    } catch (error) {
      // Rolled back, or a COMMIT whose outcome is unknown: the release below only deletes a
      // claim that is still in progress, so a committed answer stays and is replayed.
      await this.release(id, claimedAt);
      if (error instanceof LostClaim) throw inUse();
      throw error;
    }
  }

  /** Stores the answer, if the claim is still this request's. */
  private async complete(manager: EntityManager, id: string, claimedAt: string, body: unknown): Promise<boolean> {
    const { affected } = await manager
      .createQueryBuilder()
      .update(LostReasonIdempotencyKey)
      .set({ status: HttpStatus.CREATED, response: JSON.stringify(body) })
      .where('id = :id AND created_at = :claimedAt AND status IS NULL', { id, claimedAt })
      .updateEntity(false)
      .execute();
    return affected === 1;
  }

  /** Deletes this request's claim if it is still in progress, so that a retry can proceed. */
  private async release(id: string, claimedAt: string): Promise<void> {
    try {
      await this.deleteClaim(id, claimedAt);
    } catch (error) {
      this.logger.warn(`Could not release an ${IDEMPOTENCY_KEY_HEADER} yet: ${error instanceof Error ? error.message : String(error)}`);
      this.unreleased.set(id, claimedAt);
      this.retryReleasesSoon();
    }
  }

  private deleteClaim(id: string, claimedAt: string) {
    return this.guarded((keys) =>
      keys.createQueryBuilder().delete().where('id = :id AND created_at = :claimedAt AND status IS NULL', { id, claimedAt }).execute(),
    );
  }

  /**
   * `work` with the keys' repository on a pooled connection of its own, closed if it outlives the
   * request deadline, so a silently dead connection never holds a key or the pool (`onPooledConnection`).
   */
  private guarded<T>(work: (keys: Repository<LostReasonIdempotencyKey>) => Promise<T>): Promise<T> {
    return onPooledConnection(this.repository.manager.connection, 'master', this.options.requestTimeoutMs, (runner) =>
      work(runner.manager.getRepository(LostReasonIdempotencyKey)),
    );
  }

  /** Retries the claims left behind, every second, until none is left or they are stale anyway. */
  private retryReleasesSoon(): void {
    if (this.releaseTimer || this.releasing || this.destroyed) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      this.releasing = this.retryReleases().finally(() => {
        this.releasing = undefined;
        if (this.unreleased.size > 0) this.retryReleasesSoon();
      });
    }, RELEASE_RETRY_MS).unref();
  }

  private async retryReleases(): Promise<void> {
    // Stale claims are taken over by anyone anyway: forgotten first, so the map stays bounded.
    for (const [id, claimedAt] of this.unreleased) if (this.isStale({ status: null, created_at: claimedAt })) this.unreleased.delete(id);
    for (const [id, claimedAt] of this.unreleased) {
      if (this.destroyed) return;
      try {
        await this.deleteClaim(id, claimedAt);
        this.forgetUnreleased(id, claimedAt);
      } catch {
        return; // still failing: next round
      }
    }
  }

  /** Forgets a left-behind claim, unless a later failed request of the same key replaced it. */
  private forgetUnreleased(id: string, claimedAt: string): void {
    if (this.unreleased.get(id) === claimedAt) this.unreleased.delete(id);
  }

  /** Starts `pruneExpired` when this process has not for a minute; never delays or fails a request. */
  private pruneSometimes(): void {
    const now = Date.now();
    if (now < this.nextPruneAt || this.pruning) return;
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
    this.pruning = this.pruneExpired(now)
      .then(
        () => undefined,
        (error) =>
          this.logger.warn(
            `Could not delete expired ${IDEMPOTENCY_KEY_HEADER}s: ${error instanceof Error ? error.message : String(error)}`,
          ),
      )
      .finally(() => (this.pruning = undefined));
  }
}

const inUse = () =>
  new IdempotencyException(
    HttpStatus.CONFLICT,
    `There is currently another in-progress request using this ${IDEMPOTENCY_KEY_HEADER}; retry once it has finished.`,
    'idempotency_key_in_use',
  );
