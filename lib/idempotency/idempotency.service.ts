import { HttpStatus, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { CreateLostReasonDto } from '../dto';
import { IdempotencyException, InvalidRequestException } from '../errors';
import { LOST_REASON_RESOLVED_OPTIONS } from '../lost-reason.constants';
import { LostReasonIdempotencyKey } from './idempotency-key.entity';
import { ResolvedLostReasonOptions } from '../lost-reason.options';
import { driverErrorOf, isSqlite } from '../persistence/drivers.util';
import { validateParams } from '../dto/params.validator';
import { onPooledConnection } from '../common/deadline.util';

/** Injection token of the idempotency keys' repository on the host's chosen data source (internal). */
export const LOST_REASON_IDEMPOTENCY_REPOSITORY = Symbol('LOST_REASON_IDEMPOTENCY_REPOSITORY');

/** Request header of a safe retry, as Stripe names it. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Response header set, to `true`, on an answer replayed for a retry. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** Longest accepted `Idempotency-Key`, in characters (printable ASCII). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * How long a key is kept (24 hours): until then, a retry with it is answered with the stored
 * answer; after that, the key counts as never used, and its row is deleted (by the next
 * module process that prunes, at most once a minute each).
 */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A key whose first request has not finished after this long (or twice `requestTimeoutMs`,
 * if longer) is taken over by the next request using it: the first request died with its
 * process, or lost its database connection. On PostgreSQL and MySQL/MariaDB the first request,
 * if it is in fact still running, then rolls its object back (it no longer holds the key).
 */
export const IDEMPOTENCY_KEY_LOCK_TIMEOUT_MS = 60 * 1000;

/** Each process deletes expired keys at most this often. */
const PRUNE_INTERVAL_MS = 60 * 1000;
/** How often a claim that could not be released (the database was failing) is tried again. */
const RELEASE_RETRY_MS = 1000;
/** The request hash of an empty body before hashes followed what parameters mean (0.1.0). */
const EMPTY_BODY_HASH = createHash('sha256').update('{}').digest('hex');

/** Printable ASCII, space included (HTTP parsers trim it at the ends). */
const KEY_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

/** A stored or just-produced answer of `POST`. */
export interface IdempotentResult<T = unknown> {
  status: number;
  body: T;
  /** True when `body` is the stored answer of an earlier request with the same key. */
  replayed: boolean;
}

/**
 * The request's `Idempotency-Key`: `undefined` without the header; a 400 naming the header when
 * it is not 1 to 255 printable ASCII characters.
 */
export function idempotencyKeyOf(request: { headers?: Record<string, unknown> }): string | undefined {
  const value = request.headers?.[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY_PATTERN.test(value)) {
    throw new InvalidRequestException(
      `${IDEMPOTENCY_KEY_HEADER} must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters (a UUID, say).`,
      IDEMPOTENCY_KEY_HEADER,
    );
  }
  return value;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A unique or primary-key violation, on PostgreSQL, MySQL/MariaDB or SQLite. */
function isDuplicate(error: unknown): boolean {
  const driverError = driverErrorOf(error);
  return (
    driverError?.code === '23505' ||
    driverError?.errno === 1062 ||
    driverError?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    driverError?.code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
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
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Sets `Idempotent-Replayed: true` on the response (Express or Fastify) of a replayed answer. */
  markReplayed(response: unknown): void {
    this.adapterHost.httpAdapter.setHeader(response, IDEMPOTENT_REPLAYED_HEADER, 'true');
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
   * nothing and a corrected retry with the same key goes through. `create` receives the
   * transaction's manager on PostgreSQL and MySQL/MariaDB, nothing on SQLite.
   */
  async run<T>(
    tenant: string,
    key: string,
    params: unknown,
    create: (manager?: EntityManager) => Promise<T>,
  ): Promise<IdempotentResult<T>> {
    // What the parameters mean, not how they were spelled: no body, `{}` and an explicit null
    // create the same object.
    const { lost_reason = null } = validateParams(CreateLostReasonDto, params);
    const id = sha256(JSON.stringify([tenant, key]));
    const requestHash = sha256(JSON.stringify({ lost_reason }));
    // Keys stored before this spelling-blind hash, for an empty body: still the same request.
    const earlierHash = lost_reason === null ? EMPTY_BODY_HASH : requestHash;
    // A claim lost to a concurrent request or a deleted expired row costs one more round.
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimedAt = new Date().toISOString();
      if (
        await this.claim({
          id,
          tenant_id: tenant,
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
      if (isDuplicate(error)) return false;
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
    if (isSqlite(manager.connection.driver.options.type)) {
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
