import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource, EntityManager, Logger as TypeOrmLogger, QueryRunner } from 'typeorm';
import { LostReasonModule, LostReasonService } from '../lib';
import { dialectOf } from '../lib/persistence/dialects/dialect.registry';
import { DatabaseName, describeEach, testedDatabases } from './support/databases';
import { API_KEY, auth, createHostApp, RESOURCE } from './support/host-app';

/** Every statement TypeORM's logger is given, with the replication mode of the runner that sent it. */
class RunnerLog implements TypeOrmLogger {
  entries: Array<{ sql: string; mode?: string }> = [];
  failures: string[] = [];
  logQuery(sql: string, _parameters?: unknown[], runner?: QueryRunner) {
    this.entries.push({ sql, mode: runner?.getReplicationMode() });
  }
  logQueryError(_error: string | Error, sql: string) {
    this.failures.push(sql);
  }
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

/** What the database itself says ran prepared on the transaction's connection. */
async function preparedOnConnection(db: DatabaseName, manager: EntityManager): Promise<number | undefined> {
  // Embedded: no server to ask (better-sqlite3 runs nothing but prepared statements).
  if (db === 'sqlite') return undefined;
  if (db === 'postgres') {
    const rows = await manager.query("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'lost_reason_%'");
    return rows.length;
  }
  const [{ Value }] = await manager.query("SHOW SESSION STATUS LIKE 'Com_stmt_execute'");
  return Number(Value);
}

/**
 * The module's fixed statements run as prepared statements of the driver (pg's named statements,
 * mysql2's `execute`, better-sqlite3's statements), on the connection TypeORM chose:
 * the host's transaction's, a replica's for reads, with the host's logger.
 */
describeEach(testedDatabases())('prepared statements', (db) => {
  const log = new RunnerLog();
  let app: INestApplication;
  let dataSource: DataSource;

  beforeAll(async () => {
    app = await createHostApp({ db, database: { logging: true, logger: log } });
    dataSource = app.get(DataSource);
  });
  afterAll(() => app?.close());
  afterEach(() => jest.restoreAllMocks());

  if (db === 'sqlite') {
    it('better-sqlite3: prepares each statement once however often it runs', async () => {
      const { id } = (await request(app.getHttpServer()).post(RESOURCE).set(auth).send({ lost_reason: 'cached' }).expect(201)).body;
      await request(app.getHttpServer()).get(`${RESOURCE}/${id}`).set(auth).expect(200);
      const connection = (dataSource.driver as unknown as { databaseConnection: { prepare: (sql: string) => unknown } }).databaseConnection;
      const prepare = jest.spyOn(connection, 'prepare');
      for (let i = 0; i < 20; i++) await request(app.getHttpServer()).get(`${RESOURCE}/${id}`).set(auth).expect(200);
      expect(prepare).not.toHaveBeenCalled();
    });
  }

  it('runs inside the host’s transaction, on its connection, and rolls back with it', async () => {
    const dialect = dialectOf(dataSource);
    const executed = jest.spyOn(dialect, 'executePrepared' as never) as jest.SpyInstance;
    const service = app.get(LostReasonService);
    let id = '';
    await expect(
      dataSource.transaction(async (manager) => {
        const before = await preparedOnConnection(db, manager);
        const inTransaction = service.withManager(manager);
        ({ id } = await inTransaction.create({ lost_reason: 'inside' }));
        await inTransaction.update(id, { lost_reason: 'still inside' });
        expect((await inTransaction.retrieve(id)).lost_reason).toBe('still inside');
        // Every statement on the transaction's own driver connection, and the database saw them prepared.
        const connection: unknown = await manager.queryRunner!.connect();
        expect(executed.mock.calls.length).toBeGreaterThanOrEqual(3);
        for (const [used] of executed.mock.calls) expect(used).toBe(connection);
        if (before !== undefined) expect(await preparedOnConnection(db, manager)).toBeGreaterThan(before!);
        throw new Error('the host rolls back');
      }),
    ).rejects.toThrow('the host rolls back');
    await request(app.getHttpServer()).get(`${RESOURCE}/${id}`).set(auth).expect(404);
  });

  it('plans a page past the first for its own offset (not prepared), the first page prepared', async () => {
    const executed = jest.spyOn(dialectOf(dataSource), 'executePrepared' as never) as jest.SpyInstance;
    await request(app.getHttpServer()).get(`${RESOURCE}?limit=2`).set(auth).expect(200);
    await request(app.getHttpServer()).get(`${RESOURCE}?limit=2&offset=1`).set(auth).expect(200);
    const prepared = executed.mock.calls.map(([, sql]) => String(sql));
    expect(prepared.filter((sql) => / LIMIT \S+$/.test(sql))).toHaveLength(1);
    expect(prepared.filter((sql) => sql.includes('OFFSET'))).toEqual([]);
  });

  it('logs each statement through the host’s TypeORM logger, with the runner that sent it', async () => {
    log.entries = [];
    const { id } = (await request(app.getHttpServer()).post(RESOURCE).set(auth).send({ lost_reason: 'logged' }).expect(201)).body;
    await request(app.getHttpServer()).get(`${RESOURCE}/${id}`).set(auth).expect(200);
    const insert = log.entries.find(({ sql }) => sql.startsWith('INSERT INTO'));
    expect(insert).toBeDefined();
    // SQLite's one runner has no replication mode.
    expect(insert?.mode).toBe(db === 'sqlite' ? undefined : 'master');
    expect(log.entries.filter(({ sql }) => sql.startsWith('SELECT'))).not.toHaveLength(0);
  });

  it('logs a failing statement through logQueryError, and the failure keeps its meaning (a lost connection: 503)', async () => {
    log.failures = [];
    const executed = jest.spyOn(dialectOf(dataSource), 'executePrepared' as never) as jest.SpyInstance;
    executed.mockImplementationOnce(async () => {
      throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    });
    const answer = await request(app.getHttpServer()).get(RESOURCE).set(auth);
    expect(answer.status).toBe(503);
    expect(log.failures).toHaveLength(1);
  });

  it('keeps prepared statements with hooks (their subscriber does not listen to queries)', async () => {
    const hooked = await createHostApp({
      db,
      keepRows: true,
      imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY], hooks: { created: () => undefined } })],
    });
    try {
      const executed = jest.spyOn(dialectOf(hooked.get(DataSource)), 'executePrepared' as never) as jest.SpyInstance;
      await request(hooked.getHttpServer()).post(RESOURCE).set(auth).send({ lost_reason: 'hooked' }).expect(201);
      expect(executed).toHaveBeenCalled();
    } finally {
      await hooked.close();
    }
  });

  it('with preparedStatements: false, sends every statement through TypeORM’s query()', async () => {
    const plain = await createHostApp({
      db,
      keepRows: true,
      imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY], preparedStatements: false })],
    });
    try {
      const executed = jest.spyOn(dialectOf(plain.get(DataSource)), 'executePrepared' as never) as jest.SpyInstance;
      const { id } = (await request(plain.getHttpServer()).post(RESOURCE).set(auth).send({ lost_reason: 'plain' }).expect(201)).body;
      await request(plain.getHttpServer()).patch(`${RESOURCE}/${id}`).set(auth).send({ lost_reason: 'plain too' }).expect(200);
      expect(executed).not.toHaveBeenCalled();
    } finally {
      await plain.close();
    }
  });
});
