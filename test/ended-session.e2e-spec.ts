import { EventEmitter } from 'node:events';
import request from 'supertest';
import { DataSource, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent } from 'typeorm';
import { LostReason, LostReasonModule } from '../lib';
import { testedAdapters } from './support/adapters';
import { describeEach, testedDatabases } from './support/databases';
import { API_KEY, auth, createHostApp, RESOURCE } from './support/host-app';

/**
 * The database ends the session of a transaction between its last statement and its COMMIT
 * (an administrator's pg_terminate_backend or KILL, a failover): the answer is a 503 with
 * Retry-After like any other database fault, nothing is committed, and a retry works.
 */

/** Ends the session of the next transaction to commit, from a second connection, once armed. */
class SessionEnder implements EntitySubscriberInterface {
  private armed = false;
  ended = 0;

  constructor(private readonly dataSource: DataSource) {}

  arm(): void {
    this.armed = true;
  }

  async beforeTransactionCommit({ queryRunner }: TransactionCommitEvent): Promise<void> {
    if (!this.armed) return;
    this.armed = false;
    const postgres = this.dataSource.options.type === 'postgres';
    // The driver's connection learns of the end by itself: wait for it, so the COMMIT meets an ended session every time.
    const connection = (queryRunner as unknown as { databaseConnection: EventEmitter }).databaseConnection;
    const noticed = new Promise((resolve) => {
      connection.once('error', resolve);
      connection.once('end', resolve);
    });
    const [{ id }] = await queryRunner.query(postgres ? 'SELECT pg_backend_pid() AS id' : 'SELECT CONNECTION_ID() AS id');
    await this.dataSource.query(postgres ? 'SELECT pg_terminate_backend($1)' : `KILL ${Number(id)}`, postgres ? [id] : []);
    await noticed;
    this.ended++;
  }
}

/** Once armed, changes `id` from a second connection just before the next UPDATE outside a transaction runs. */
class ConcurrentWriter implements EntitySubscriberInterface {
  private id: string | undefined;

  constructor(private readonly dataSource: DataSource) {}

  arm(id: string): void {
    this.id = id;
  }

  // The event's shape, not TypeORM's type: BeforeQueryEvent is generic on 0.3 and not on 1.x.
  async beforeQuery({ query, queryRunner }: { query: string; queryRunner?: QueryRunner }): Promise<void> {
    const id = this.id;
    if (id === undefined || !/^UPDATE/i.test(query) || queryRunner?.isTransactionActive) return;
    this.id = undefined;
    const later = new Date(Date.now() + 60_000).toISOString();
    await this.dataSource.getRepository(LostReason).update({ id }, { lost_reason: 'concurrent', updated_at: later });
  }
}

const cases = testedDatabases()
  .filter((db) => db !== 'sqlite')
  .map((db, index) => [db, testedAdapters()[index % testedAdapters().length]] as const);

describeEach(cases)('a session ended before its COMMIT', ([db, adapter]) => {
  let app: Awaited<ReturnType<typeof createHostApp>>;
  let dataSource: DataSource;
  let ender: SessionEnder;
  const count = () => dataSource.getRepository(LostReason).count();

  beforeAll(async () => {
    app = await createHostApp({ db, adapter, imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY] })] });
    dataSource = app.get(DataSource);
    ender = new SessionEnder(dataSource);
    dataSource.subscribers.push(ender);
  });
  afterAll(() => app.close());
  beforeEach(async () => {
    await dataSource.getRepository(LostReason).createQueryBuilder().delete().execute();
    ender.ended = 0;
  });

  it('an idempotent create answers 503 with Retry-After, commits nothing, and a retry with its key creates one object', async () => {
    const server = app.getHttpServer();
    const create = () => request(server).post(RESOURCE).set(auth).set('Idempotency-Key', `ended-${db}`).send({ lost_reason: 'x' });
    ender.arm();
    const failed = await create();
    expect(ender.ended).toBe(1);
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toMatch(/^\d+$/);
    expect(failed.body.error.type).toBe('api_error');
    expect(await count()).toBe(0);

    const retried = await create().expect(201);
    const replayed = await create().expect(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.body).toEqual(retried.body);
    expect(await count()).toBe(1);
  });
});

// Where the dialect finds rows first (MySQL/MariaDB), an update whose compare-and-set loses to a
// concurrent write locks the row and writes it in a transaction of the store's own.
describeEach(testedDatabases().filter((db) => db === 'mariadb'))("a session ended before the store's own COMMIT", (db) => {
  let app: Awaited<ReturnType<typeof createHostApp>>;
  let dataSource: DataSource;
  let ender: SessionEnder;
  let writer: ConcurrentWriter;

  beforeAll(async () => {
    // Statements through TypeORM's query(), which its subscribers see: the concurrent write comes just before the compare-and-set.
    app = await createHostApp({ db, imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY], preparedStatements: false })] });
    dataSource = app.get(DataSource);
    ender = new SessionEnder(dataSource);
    writer = new ConcurrentWriter(dataSource);
    dataSource.subscribers.push(ender, writer);
  });
  afterAll(() => app.close());

  it('a plain update answers 503 with Retry-After, commits nothing, and a retry works', async () => {
    const server = app.getHttpServer();
    const { body: created } = await request(server).post(RESOURCE).set(auth).send({ lost_reason: 'first' }).expect(201);
    const update = () => request(server).patch(`${RESOURCE}/${created.id}`).set(auth).send({ lost_reason: 'mine' });
    writer.arm(created.id);
    ender.arm();
    const failed = await update();
    expect(ender.ended).toBe(1);
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toMatch(/^\d+$/);
    expect((await dataSource.getRepository(LostReason).findOneByOrFail({ id: created.id })).lost_reason).toBe('concurrent');

    expect((await update().expect(200)).body.lost_reason).toBe('mine');
  });
});
