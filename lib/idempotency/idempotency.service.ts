import { HttpStatus, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EntityManager, Repository } from 'typeorm';
import { CreateLostReasonDto } from '../dto';
import { ParamsValidator, Validated } from '../dto/params.validator';
import { IdempotencyException } from '../errors';
import { LOST_REASON_IDEMPOTENCY_REPOSITORY, LOST_REASON_RESOLVED_OPTIONS } from '../common/lost-reason.constants';
import { ResolvedLostReasonOptions } from '../interfaces/resolved-lost-reason-options.interface';
import { storedTenantId } from '../tenancy/tenant-id.util';
import { ExpiredKeyPruner } from './expired-key.pruner';
import { databaseFaultOf } from '../persistence/database-fault.classifier';
import { LostReasonIdempotencyKey } from '../persistence/idempotency-key.entity';
import { IdempotencyKeyStore, StoredKey } from './idempotency-key.store';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_TTL_MS } from './idempotency.constants';
import { keyIdOf, requestHashesOf } from './request-hash.util';
import { UnreleasedClaimReleaser } from './unreleased-claim.releaser';

/** A stored or just-produced answer of `POST`. */
export interface IdempotentResult<T = unknown> {
  status: number;
  body: T;
  /** True when `body` is the stored answer of an earlier request with the same key. */
  replayed: boolean;
}

/** The first request with a key no longer holds it: someone took over a key it held too long. */
class LostClaim extends Error {}

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
  private readonly keys: IdempotencyKeyStore;
  private readonly pruner: ExpiredKeyPruner;
  private readonly unreleased: UnreleasedClaimReleaser;
  private readonly createParams = new ParamsValidator(CreateLostReasonDto);

  constructor(
    @Inject(LOST_REASON_IDEMPOTENCY_REPOSITORY) repository: Repository<LostReasonIdempotencyKey>,
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: Pick<ResolvedLostReasonOptions, 'requestTimeoutMs'>,
  ) {
    this.keys = new IdempotencyKeyStore(repository, options.requestTimeoutMs);
    this.pruner = new ExpiredKeyPruner((now) => this.pruneExpired(now), this.logger);
    this.unreleased = new UnreleasedClaimReleaser(
      (id, claimedAt) => this.keys.deleteClaim(id, claimedAt),
      (claimedAt) => this.isStale({ status: null, created_at: claimedAt }),
    );
  }

  /** A host that lists its entities without this one still starts; it is told what to add. */
  onModuleInit(): void {
    if (!this.keys.registered) {
      this.logger.warn(
        `The entity LostReasonIdempotencyKey is not registered on the data source: requests with an ${IDEMPOTENCY_KEY_HEADER} will fail. ` +
          'List LOST_REASON_ENTITIES in its entities (or use autoLoadEntities: true).',
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.pruner.settled(), this.unreleased.stop()]); // before the host closes the connection
  }

  /**
   * Runs `create` at most once per (tenant, key) and parameters, answering retries with its
   * stored answer. The parameters are validated here, once for the request, before the key is
   * claimed: a request refused for them stores nothing, and a corrected retry with the same key
   * goes through. `create` receives the transaction's manager where the dialect opens the module's
   * own transactions (nothing elsewhere: SQLite), and the parameters checked. `tenant`: the request's
   * tenant, `''` without tenancy.
   */
  async run<T>(
    tenant: string,
    key: string,
    params: unknown,
    create: (manager: EntityManager | undefined, params: Validated<CreateLostReasonDto>) => Promise<T>,
  ): Promise<IdempotentResult<T>> {
    const checked = this.createParams.validate(params);
    const { lost_reason = null } = checked;
    const id = keyIdOf(tenant, key);
    const { current: requestHash, earlier: earlierHash } = requestHashesOf(lost_reason);
    // A claim lost to a concurrent request or a deleted expired row costs one more round.
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimedAt = new Date().toISOString();
      const row = { id, tenant_id: storedTenantId(tenant), idempotency_key: key, request_hash: requestHash, status: null, response: null };
      if (await this.claim({ ...row, created_at: claimedAt })) {
        this.pruner.pruneSometimes();
        const body = await this.execute(id, claimedAt, (manager) => create(manager, checked));
        return { status: HttpStatus.CREATED, body, replayed: false };
      }
      const stored = await this.keys.find(id);
      if (stored === undefined) continue; // released or pruned in between
      const abandonedHere = stored.status === null && this.unreleased.has(id, stored.created_at);
      if (abandonedHere || this.isStale(stored)) {
        await this.keys.deleteStale(id, stored);
        if (abandonedHere) this.unreleased.forget(id, stored.created_at);
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
  pruneExpired(now = Date.now()): Promise<number> {
    return this.keys.deleteClaimedBefore(new Date(now - IDEMPOTENCY_KEY_TTL_MS).toISOString());
  }

  /**
   * `keys.claim`. A claim that failed for a database fault on a server may have committed with
   * its answer lost (the connection cut after the INSERT): this request then holds a key it will
   * never use, so it gives it back as a failed request does, and a retry here takes it over at
   * once. (An embedded database loses no answer; any other error committed nothing.)
   */
  private async claim(row: LostReasonIdempotencyKey): Promise<boolean> {
    try {
      return await this.keys.claim(row);
    } catch (error) {
      if (this.keys.ownTransactions && databaseFaultOf(error) !== undefined) this.unreleased.add(row.id, row.created_at);
      throw error;
    }
  }

  /**
   * Expired, or still in progress at twice `requestTimeoutMs` (on any instance): its request is
   * past its deadline, so it died with its process or lost its database connection (its session
   * then ended, and its transaction with it); twice, for the clocks of instances that disagree a
   * little. Where the module opens its own transactions, a request that is in fact still running
   * then rolls its object back: it no longer holds the key.
   */
  private isStale({ status, created_at }: Pick<StoredKey, 'status' | 'created_at'>): boolean {
    const age = Date.now() - Date.parse(created_at);
    const lockTimeout = 2 * this.options.requestTimeoutMs;
    return age > IDEMPOTENCY_KEY_TTL_MS || (status === null && age > lockTimeout);
  }

  /**
   * Creates, and stores the answer on this request's claim; on failure, gives the key back. A
   * transaction the database rolled back for a conflict runs again (`inTransaction`): the
   * attempt left nothing, and the claim is still this request's.
   */
  private async execute<T>(id: string, claimedAt: string, create: (manager?: EntityManager) => Promise<T>): Promise<T> {
    if (!this.keys.ownTransactions) {
      let body: T;
      try {
        body = await create();
      } catch (error) {
        await this.release(id, claimedAt);
        throw error;
      }
      // Created: from here on the key is kept even if storing the answer fails, so a retry is
      // told the key is in use rather than creating a second object.
      if (!(await this.keys.completeAlone(id, claimedAt, body))) {
        this.logger.warn(`An ${IDEMPOTENCY_KEY_HEADER} was taken over while its request was running.`);
      }
      return body;
    }
    try {
      return await this.keys.inTransaction(async (transaction) => {
        const body = await create(transaction);
        if (!(await this.keys.complete(transaction, id, claimedAt, body))) throw new LostClaim();
        return body;
      });
    } catch (error) {
      // Rolled back, or a COMMIT whose outcome is unknown: the release below only deletes a
      // claim that is still in progress, so a committed answer stays and is replayed.
      await this.release(id, claimedAt);
      if (error instanceof LostClaim) throw inUse();
      throw error;
    }
  }

  /** Deletes this request's claim if it is still in progress, so that a retry can proceed; retried in the background if the database fails. */
  private async release(id: string, claimedAt: string): Promise<void> {
    try {
      await this.keys.deleteClaim(id, claimedAt);
    } catch (error) {
      this.logger.warn(`Could not release an ${IDEMPOTENCY_KEY_HEADER} yet: ${error instanceof Error ? error.message : String(error)}`);
      this.unreleased.add(id, claimedAt);
    }
  }
}

const inUse = () =>
  new IdempotencyException(
    HttpStatus.CONFLICT,
    `There is currently another in-progress request using this ${IDEMPOTENCY_KEY_HEADER}; retry once it has finished.`,
    'idempotency_key_in_use',
  );
