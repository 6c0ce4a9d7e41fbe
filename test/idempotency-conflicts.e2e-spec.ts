import { INestApplication } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  DataSource,
  EntitySubscriberInterface,
  EventSubscriber,
  Logger as TypeOrmLogger,
  QueryFailedError,
  TransactionCommitEvent,
} from 'typeorm';
import { LostReason, LostReasonIdempotencyKey } from '../lib';
import { IdempotencyKeyStore } from '../lib/idempotency/idempotency-key.store';
import { DatabaseName, describeEach, testedDatabases } from './support/databases';
import { auth, createHostApp, RESOURCE } from './support/host-app';

/** Records each statement with its parameters. */
class ParameterLog implements TypeOrmLogger {
  statements: { sql: string; parameters: unknown[] }[] = [];
  logQuery(sql: string, parameters?: unknown[]) {
    this.statements.push({ sql: sql.trim(), parameters: parameters ?? [] });
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

/** How each database names the index a statement is planned through. */
const indexesOf: Record<DatabaseName, (dataSource: DataSource, sql: string, parameters: unknown[]) => Promise<string[]>> = {
  // One row per table: `key` is the index used, `possible_keys` the ones the optimizer weighed.
  mariadb: async (dataSource, sql, parameters) => {
    const rows: { key: string | null; possible_keys: string | null }[] = await dataSource.query(`EXPLAIN ${sql}`, parameters);
    return rows.flatMap((row) => [`key ${row.key}`, `possible ${row.possible_keys}`]);
  },
  postgres: async (dataSource, sql, parameters) => {
    const [{ 'QUERY PLAN': plan }] = await dataSource.query(`EXPLAIN (FORMAT JSON) ${sql}`, parameters);
    const names: string[] = [];
    const walk = (node: Record<string, unknown>) => {
      names.push(`${node['Node Type']} ${node['Index Name'] ?? ''}`.trim());
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk((plan as { Plan: Record<string, unknown> }[])[0].Plan);
    return names;
  },
  sqlite: async (dataSource, sql, parameters) => {
    const rows: { detail: string }[] = await dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, parameters);
    return rows.map((row) => row.detail);
  },
};

/** What a plan through the primary key only looks like, on each database. */
const byPrimaryKeyOnly: Record<DatabaseName, (indexes: string[]) => boolean> = {
  mariadb: (indexes) => indexes.every((line) => line === 'key PRIMARY' || line === 'possible PRIMARY'),
  postgres: (indexes) =>
    indexes.some((line) => /Index Scan PK_/.test(line)) && indexes.every((line) => !/Scan/.test(line) || /Index Scan PK_/.test(line)),
  sqlite: (indexes) => indexes.every((line) => /USING (INDEX sqlite_autoindex_\w+|PRIMARY KEY) \(id=\?\)$/.test(line)),
};

/**
 * Statements that touch one `Idempotency-Key` go by its primary key. Through the index on
 * `created_at` (chosen by MariaDB's and PostgreSQL's planners while the table holds a few hundred
 * keys), MariaDB's UPDATE and DELETE lock the gap after the newest key under REPEATABLE READ: on
 * Galera, a key claimed through another node lands in that gap, the applier aborts the local
 * transaction, and its COMMIT fails (a 503 for an idempotent create on a healthy cluster).
 */
describeEach(testedDatabases())('Idempotency-Key statements on a fresh table of a few hundred keys', (db) => {
  const log = new ParameterLog();
  let app: INestApplication;
  let dataSource: DataSource;
  let keys: IdempotencyKeyStore;

  beforeAll(async () => {
    app = await createHostApp({ db, database: { logging: true, logger: log } });
    dataSource = app.get(DataSource);
    const repository = dataSource.getRepository(LostReasonIdempotencyKey);
    // A few hundred answered keys, one a millisecond, as on a database a few minutes into its life.
    const start = Date.now() - 60_000;
    const rows = Array.from({ length: 300 }, (_, n) => {
      const id = createHash('sha256').update(randomUUID()).digest('hex');
      const at = new Date(start + n).toISOString();
      const answer = { id: `lr_${id.slice(0, 24)}`, object: 'opportunity_lost_reason', created_at: at, updated_at: at, lost_reason: 'x' };
      return {
        id,
        tenant_id: '',
        idempotency_key: randomUUID(),
        request_hash: id,
        status: 201,
        response: JSON.stringify(answer),
        created_at: at,
      };
    });
    for (let n = 0; n < rows.length; n += 100) await repository.insert(rows.slice(n, n + 100));
    // The statistics the server gathers by itself once enough rows changed (MariaDB recalculates in the background).
    await dataSource.query(
      db === 'mariadb' ? 'ANALYZE TABLE opportunity_lost_reason_idempotency' : 'ANALYZE opportunity_lost_reason_idempotency',
    );
    keys = new IdempotencyKeyStore(repository, 5000);
  });
  afterAll(() => app?.close());

  it('plans every statement on one key (the answer, the release, a stale key’s delete, the read) through the primary key only', async () => {
    const claimedAt = new Date().toISOString();
    const id = createHash('sha256').update(randomUUID()).digest('hex');
    const row = { id, tenant_id: '', idempotency_key: randomUUID(), request_hash: id, status: null, response: null };
    log.statements = [];
    await keys.claim({ ...row, created_at: claimedAt });
    await keys.find(id);
    await keys.completeAlone(id, claimedAt, { id: 'lr_x' });
    await keys.deleteClaim(id, claimedAt);
    await keys.deleteStale(id, { created_at: claimedAt, status: 201 });
    await keys.deleteStale(id, { created_at: claimedAt, status: null });
    const oneKey = log.statements.filter(({ sql }) => /^(SELECT|UPDATE|DELETE)\b/i.test(sql));
    await keys.claim({ ...row, created_at: claimedAt }); // planned with the key in the table, as when they ran
    expect(oneKey.map(({ sql }) => sql.split(/\s+/)[0].toUpperCase())).toEqual(['SELECT', 'UPDATE', 'DELETE', 'DELETE', 'DELETE']);
    const plans = await Promise.all(
      oneKey.map(async ({ sql, parameters }) => ({ sql, indexes: await indexesOf[db](dataSource, sql, parameters) })),
    );
    expect(plans.filter(({ indexes }) => !byPrimaryKeyOnly[db](indexes))).toEqual([]);
  });
});

/** What each server answers a COMMIT that lost to a concurrent write: Galera's certification failure, PostgreSQL's serialization failure. */
const CONFLICT_ERRORS: Partial<Record<DatabaseName, object>> = {
  mariadb: { errno: 1213, code: 'ER_LOCK_DEADLOCK', message: 'Deadlock found when trying to get lock; try restarting transaction' },
  postgres: { code: '40001', message: 'could not serialize access due to concurrent update' },
};

/** Refuses the next `refusals` COMMITs with the database's conflict error, as a Galera node does when certification fails. */
@EventSubscriber()
class ConflictingCommits implements EntitySubscriberInterface {
  static refusals = 0;
  static refused = 0;
  static error: object = {};
  beforeTransactionCommit(_event: TransactionCommitEvent): void {
    if (ConflictingCommits.refusals === 0) return;
    ConflictingCommits.refusals--;
    ConflictingCommits.refused++;
    throw new QueryFailedError('COMMIT', [], ConflictingCommits.error as Error);
  }
}

/**
 * An idempotent create's transaction (the object's INSERT and the stored answer) rolled back by a
 * conflict at COMMIT is done again, as updates are, within the request's deadline.
 */
describeEach(testedDatabases().filter((db) => CONFLICT_ERRORS[db]))('Idempotency-Key: a create whose COMMIT loses a conflict', (db) => {
  let app: INestApplication;
  let dataSource: DataSource;
  const post = (key: string, lostReason: string) =>
    request(app.getHttpServer()).post(RESOURCE).set(auth).set('Idempotency-Key', key).send({ lost_reason: lostReason });

  beforeAll(async () => {
    ConflictingCommits.error = CONFLICT_ERRORS[db] as object;
    app = await createHostApp({ db, database: { subscribers: [ConflictingCommits] } });
    dataSource = app.get(DataSource);
  });
  afterAll(() => app?.close());
  beforeEach(() => {
    ConflictingCommits.refusals = 0;
    ConflictingCommits.refused = 0;
  });

  it('is retried: 201, one object, and the stored answer replayed', async () => {
    ConflictingCommits.refusals = 2;
    const created = await post('conflict-1', 'retried').expect(201);
    expect(ConflictingCommits.refused).toBe(2);
    expect(await dataSource.getRepository(LostReason).countBy({ lost_reason: 'retried' })).toBe(1);
    expect(await dataSource.getRepository(LostReason).findOneByOrFail({ lost_reason: 'retried' })).toMatchObject({ id: created.body.id });
    const replay = await post('conflict-1', 'retried').expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(created.body);
  });

  it('answers 503 with Retry-After once the conflicts outlast the retries, commits nothing, and a retry with the key then creates', async () => {
    ConflictingCommits.refusals = 100;
    const refused = await post('conflict-2', 'given up').expect(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(ConflictingCommits.refused).toBeGreaterThan(1);
    expect(await dataSource.getRepository(LostReason).countBy({ lost_reason: 'given up' })).toBe(0);
    ConflictingCommits.refusals = 0;
    const created = await post('conflict-2', 'given up').expect(201);
    expect(created.headers['idempotent-replayed']).toBeUndefined();
    expect(await dataSource.getRepository(LostReason).countBy({ lost_reason: 'given up' })).toBe(1);
  });
});
