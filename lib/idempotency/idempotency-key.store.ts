import { HttpStatus } from '@nestjs/common';
import {
  DeleteQueryBuilder,
  EntityManager,
  InsertQueryBuilder,
  QueryResult,
  QueryRunner,
  Repository,
  SelectQueryBuilder,
  UpdateQueryBuilder,
} from 'typeorm';
import { retryingConflicts } from '../persistence/conflict-retry.util';
import { dialectOf, driverErrorOf } from '../persistence/dialects/dialect.registry';
import { onPooledConnection } from '../persistence/pooled-connection.util';
import { LostReasonIdempotencyKey } from '../persistence/idempotency-key.entity';
import { executePrepared, preparedRunnerOf } from '../persistence/prepared-statement.executor';

/** One statement on the keys' table, as a query builder makes it. */
type KeyStatement =
  | SelectQueryBuilder<LostReasonIdempotencyKey>
  | InsertQueryBuilder<LostReasonIdempotencyKey>
  | UpdateQueryBuilder<LostReasonIdempotencyKey>
  | DeleteQueryBuilder<LostReasonIdempotencyKey>;

/** What a retry reads of a stored key. */
export type StoredKey = Pick<LostReasonIdempotencyKey, 'request_hash' | 'status' | 'response' | 'created_at'>;

/**
 * The statements of the idempotency protocol on the keys' table. Each runs on a pooled
 * connection of its own, closed if it outlives the request deadline, so a silently dead
 * connection never holds a key or the pool (`onPooledConnection`); the stored answer
 * (`complete`) runs in the module's transaction, on that transaction's guarded connection.
 *
 * Every statement on one key finds it by its primary key alone (`thisClaim`): through the index
 * on `created_at`, which MariaDB's and PostgreSQL's planners pick while the table holds a few
 * hundred keys, MariaDB's UPDATE and DELETE lock the gap after the newest key, where every new
 * claim lands; on Galera a claim made through another node then aborts the local transaction.
 *
 * On better-sqlite3 each runs as the module's own statements do (`execute`): a lock another
 * connection holds is waited for off the thread, where TypeORM's statement would wait in it and
 * stop every request of the process, the host's too.
 */
export class IdempotencyKeyStore {
  constructor(
    private readonly repository: Repository<LostReasonIdempotencyKey>,
    private readonly timeoutMs: number,
  ) {}

  /** Whether the module opens its own transactions on this database (see the dialect). */
  get ownTransactions(): boolean {
    return dialectOf(this.repository.manager.connection).ownTransactions;
  }

  /** Whether the entity is registered on the data source. */
  get registered(): boolean {
    return this.repository.manager.connection.hasMetadata(LostReasonIdempotencyKey);
  }

  /** One INSERT; false when the key is already taken (the primary key makes one of concurrent claims win). */
  async claim(row: LostReasonIdempotencyKey): Promise<boolean> {
    try {
      await this.guarded((runner, keys) => this.execute(runner, keys.createQueryBuilder().insert().values(row).updateEntity(false)));
      return true;
    } catch (error) {
      const driverError = driverErrorOf(error);
      if (driverError && dialectOf(this.repository.manager.connection).violationOf(driverError)?.kind === 'duplicate') return false;
      throw error;
    }
  }

  async find(id: string): Promise<StoredKey | undefined> {
    const { records } = await this.guarded((runner, keys) => {
      const query = keys
        .createQueryBuilder('key')
        .select('key.request_hash', 'request_hash')
        .addSelect('key.status', 'status')
        .addSelect('key.response', 'response')
        .addSelect('key.created_at', 'created_at')
        .where('key.id = :id', { id });
      return this.execute(runner, query);
    });
    return (records as StoredKey[])[0];
  }

  /** Stores the answer through `manager`, if the claim made at `claimedAt` is still the key's. */
  async complete(transaction: EntityManager, id: string, claimedAt: string, body: unknown): Promise<boolean> {
    const { affected } = await this.execute(transaction.queryRunner!, this.completion(transaction, id, claimedAt, body));
    return affected === 1;
  }

  /** Stores the answer on its own connection (no transaction of the module: SQLite). */
  async completeAlone(id: string, claimedAt: string, body: unknown): Promise<boolean> {
    const { affected } = await this.guarded((runner) => this.execute(runner, this.completion(runner.manager, id, claimedAt, body)));
    return affected === 1;
  }

  /**
   * `work` in a transaction of the module's own, on a guarded connection; done again, in a new
   * transaction, when the database rolled it back whole for a conflict with a concurrent write
   * (Galera's certification failing at COMMIT), as updates are (`retryingConflicts`).
   */
  inTransaction<T>(work: (transaction: EntityManager) => Promise<T>): Promise<T> {
    return retryingConflicts(this.repository.manager, this.timeoutMs, () => this.guarded((keys) => keys.manager.transaction(work)));
  }

  /** Deletes the claim made at `claimedAt` if it is still in progress. */
  async deleteClaim(id: string, claimedAt: string): Promise<void> {
    await this.guarded((runner, keys) =>
      this.execute(runner, keys.createQueryBuilder().delete().where(this.thisClaim(true), { id, claimedAt })),
    );
  }

  /** Deletes a stale key as it was read: a claim that completed meanwhile is kept. */
  async deleteStale(id: string, { created_at, status }: Pick<StoredKey, 'created_at' | 'status'>): Promise<void> {
    await this.guarded((runner, keys) =>
      this.execute(
        runner,
        keys
          .createQueryBuilder()
          .delete()
          .where(this.thisClaim(status === null), { id, claimedAt: created_at }),
      ),
    );
  }

  /** Deletes the keys claimed before `cutoff` (one DELETE on the `created_at` index). */
  async deleteClaimedBefore(cutoff: string): Promise<number> {
    const { affected } = await this.guarded((runner, keys) =>
      this.execute(runner, keys.createQueryBuilder().delete().where('created_at < :cutoff', { cutoff })),
    );
    return affected ?? 0;
  }

  /**
   * The condition of the claim `:id` made at `:claimedAt` (`inProgress`: and not completed yet),
   * planned through the primary key only, on every database: the claim's time is compared as
   * `COALESCE(created_at, '')` (the column is never NULL), which no index serves, so a planner
   * cannot take the index on `created_at` instead.
   */
  private thisClaim(inProgress: boolean): string {
    const column = (property: keyof LostReasonIdempotencyKey) => {
      const { databaseName } = this.repository.metadata.findColumnWithPropertyName(property)!;
      return this.repository.manager.connection.driver.escape(databaseName);
    };
    const claim = `${column('id')} = :id AND COALESCE(${column('created_at')}, '') = :claimedAt`;
    return inProgress ? `${claim} AND ${column('status')} IS NULL` : claim;
  }

  /** The UPDATE storing the answer on the claim made at `claimedAt`, if it is still in progress. */
  private completion(manager: EntityManager, id: string, claimedAt: string, body: unknown) {
    return manager
      .createQueryBuilder()
      .update(LostReasonIdempotencyKey)
      .set({ status: HttpStatus.CREATED, response: JSON.stringify(body) })
      .where(this.thisClaim(true), { id, claimedAt })
      .updateEntity(false);
  }

  /**
   * The statement `query` (built on `runner`'s manager): where the dialect's prepared statements
   * wait for another connection's lock off the thread (better-sqlite3), as the module's own
   * statements run; elsewhere as TypeORM runs it (its entity subscribers see the INSERT).
   */
  private async execute(runner: QueryRunner, query: KeyStatement): Promise<Pick<QueryResult, 'records' | 'affected'>> {
    const dialect = dialectOf(runner.connection);
    const prepared = dialect.embedded ? preparedRunnerOf(runner.connection, dialect, true) : undefined;
    if (prepared) {
      const [sql, parameters] = query.getQueryAndParameters();
      return executePrepared(runner, prepared, sql, parameters, this.timeoutMs);
    }
    if (query instanceof SelectQueryBuilder) return { records: await query.getRawMany() };
    const result = await (query as Exclude<KeyStatement, SelectQueryBuilder<LostReasonIdempotencyKey>>).execute();
    return { records: [], affected: 'affected' in result ? (result.affected ?? undefined) : undefined };
  }

  private guarded<T>(work: (runner: QueryRunner, keys: Repository<LostReasonIdempotencyKey>) => Promise<T>): Promise<T> {
    return onPooledConnection(this.repository.manager.connection, 'master', this.timeoutMs, (runner) =>
      work(runner, runner.manager.getRepository(LostReasonIdempotencyKey)),
    );
  }
}
