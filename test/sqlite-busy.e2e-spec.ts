import { INestApplication } from '@nestjs/common';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource, Logger } from 'typeorm';
import { LostReasonModule } from '../lib';
import { HostRoutesModule } from './fixtures/host-routes.module';
import { testedDatabases } from './support/databases';
import { API_KEY, auth, createHostApp, RESOURCE } from './support/host-app';

/**
 * Another connection (another process, a migration, a backup) holds SQLite's write lock.
 * better-sqlite3 is synchronous: a statement waiting out its busy timeout (TypeORM's `timeout`,
 * 5 s by default) would hold the thread, and with it every request of every tenant and the
 * host's own routes, and then answer 500. The module's statements wait for the lock without
 * holding the thread, and a lock that outlasts the wait is a 503 with `Retry-After`.
 */
const onSqlite = testedDatabases().includes('sqlite') ? describe : describe.skip;

/** What the module's INSERTs (of an object, or of an `Idempotency-Key`'s claim) do, as the host's TypeORM logger sees it: about to run (`tried`), failed for good (`failed`). */
interface InsertEvents {
  tried?: () => void;
  failed?: () => void;
}

function insertLogger(events: InsertEvents): Logger {
  const isInsert = (sql: string) => /^INSERT INTO "opportunity_lost_reason(_idempotency)?"/.test(sql);
  return {
    logQuery: (sql) => (isInsert(sql) ? events.tried?.() : undefined),
    logQueryError: (_error, sql) => (isInsert(sql) ? events.failed?.() : undefined),
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  };
}

onSqlite('another connection holding the SQLite write lock', () => {
  const file = join(tmpdir(), `lost-reason-busy-${process.pid}.sqlite`);
  let app: INestApplication;
  let locker: DataSource; // a second connection to the same file
  const events: InsertEvents = {};
  const logger = insertLogger(events);
  /** Resolves when the module is about to run an INSERT (its statements are logged before they run). */
  const insertTried = () => new Promise<void>((resolve) => (events.tried = resolve));

  beforeAll(async () => {
    rmSync(file, { force: true });
    // The host's TypeORM options but the file: its busy timeout is TypeORM's default.
    app = await createHostApp({
      db: 'sqlite',
      imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY] }), HostRoutesModule],
      database: { database: file, logger },
    });
    locker = await new DataSource({ type: 'better-sqlite3', database: file }).initialize();
  });

  afterEach(async () => {
    events.tried = undefined;
    await locker.query('ROLLBACK').catch(() => undefined); // a failed test must not leave the lock held
  });

  afterAll(async () => {
    await app?.close();
    await locker?.destroy();
    rmSync(file, { force: true });
  });

  const post = (lostReason: string, idempotencyKey?: string) =>
    request(app.getHttpServer())
      .post(RESOURCE)
      .set(auth)
      .set(idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey })
      .send({ lost_reason: lostReason })
      .then((response) => response);

  it.each([
    ['a write', undefined],
    ['an idempotent create (its key is claimed first)', 'busy-key'],
  ])(
    'answers %s 503 with Retry-After, not 500, and serves the host and the module meanwhile',
    async (_what, key) => {
      await locker.query('BEGIN IMMEDIATE');
      const events: string[] = [];
      const tried = insertTried();
      const blocked = post('locked', key).then((response) => (events.push('module POST'), response));
      await tried;
      // Sent while the POST waits for the lock: answered before it.
      await Promise.all([
        request(app.getHttpServer())
          .get('/host/ping')
          .then((response) => events.push(`host GET ${response.status}`)),
        request(app.getHttpServer())
          .get(RESOURCE)
          .set(auth)
          .then((response) => events.push(`module GET ${response.status}`)),
      ]);
      const answer = await blocked;
      expect({ first: events.slice(0, 2).sort(), last: events[2] }).toEqual({
        first: ['host GET 200', 'module GET 200'],
        last: 'module POST',
      });
      expect({ status: answer.status, retryAfter: answer.headers['retry-after'], message: answer.body.error?.message }).toEqual({
        status: 503,
        retryAfter: '1',
        message: 'The database did not answer in time; retry.',
      });
      await locker.query('ROLLBACK');
      // With the key: nothing was claimed, so the retry creates the object.
      expect((await post(key === undefined ? 'free' : 'locked', key)).status).toBe(201);
    },
    30_000,
  );

  it('waits for the lock without holding the thread: a lock released meanwhile lets the write through', async () => {
    await locker.query('BEGIN IMMEDIATE');
    const tried = insertTried();
    const waiting = post('waited');
    await tried;
    await request(app.getHttpServer()).get('/host/ping').expect(200);
    await locker.query('ROLLBACK');
    const answer = await waiting;
    expect({ status: answer.status, lost_reason: answer.body.lost_reason }).toEqual({ status: 201, lost_reason: 'waited' });
  }, 30_000);
});

onSqlite('another connection holding the SQLite write lock past the request deadline', () => {
  const file = join(tmpdir(), `lost-reason-busy-deadline-${process.pid}.sqlite`);
  let app: INestApplication;
  let locker: DataSource;
  const events: InsertEvents = {};
  const logger = insertLogger(events);

  beforeAll(async () => {
    rmSync(file, { force: true });
    // The host waits a minute for a lock; the module's requests end after half a second.
    app = await createHostApp({
      db: 'sqlite',
      imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY], requestTimeoutMs: 500 })],
      database: { database: file, logger, timeout: 60_000 } as never,
    });
    locker = await new DataSource({ type: 'better-sqlite3', database: file }).initialize();
  });

  afterAll(async () => {
    await locker?.query('ROLLBACK').catch(() => undefined);
    await app?.close();
    await locker?.destroy();
    rmSync(file, { force: true });
  });

  it("stops waiting at the module's deadline, not the host's longer busy timeout: no write starts after the 503", async () => {
    await locker.query('BEGIN IMMEDIATE');
    const failed = new Promise<void>((resolve) => (events.failed = resolve));
    const answer = await request(app.getHttpServer()).post(RESOURCE).set(auth).send({ lost_reason: 'too late' });
    expect(answer.status).toBe(503);
    await failed; // given up (waiting out the host's minute, it would not be before the test's own timeout)
    await locker.query('ROLLBACK');
    const list = await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(200);
    expect(list.body.total).toBe(0);
  }, 20_000);
});
