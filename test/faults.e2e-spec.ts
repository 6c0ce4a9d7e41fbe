import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { performance } from 'node:perf_hooks';
import { DataSource, DataSourceOptions } from 'typeorm';
import { LostReason, LostReasonIdempotencyKey, LostReasonModule, REQUEST_ID_HEADER } from '../lib';
import { LostReasonIdempotency } from '../lib/idempotency/idempotency.service';
import { AdapterName, createAdapter, testedAdapters } from './support/adapters';
import { apiErrorBody, OBJECT_ID } from './support/contract';
import { DATABASES, DatabaseName, describeEach, testedDatabases } from './support/databases';
import { API_KEY, auth, hostDatabase, RESOURCE } from './support/host-app';
import { TcpProxy } from './support/tcp-proxy';

/**
 * Database faults, for real: the host app reaches PostgreSQL/MariaDB through a TCP proxy the
 * test controls (127.0.0.1 only), which is cut in the middle of concurrent load. Every request
 * must answer within the module's deadline (201/200, or a 503 `api_error` that reveals
 * nothing), the module must serve again once the proxy is restored (same process, no
 * restart), and every write must have happened entirely or not at all.
 */

const REQUEST_TIMEOUT_MS = 2000;
/** Driver connect timeouts, shorter than the deadline: a black-holed connect fails on its own. */
const CONNECT_TIMEOUT_MS = 1000;
/** Every answer comes within this bound... */
const ANSWER_BOUND_MS = REQUEST_TIMEOUT_MS + 1000;
/** ...and the client gives up (and the test fails) well after it: nothing may hang. */
const CLIENT_ABORT_MS = REQUEST_TIMEOUT_MS + 5000;

const UNAVAILABLE = 'The database is unavailable; retry.';
const TIMED_OUT = 'The database did not answer in time; retry.';
/** What a 503 body must never contain: connection strings, driver codes, stack frames, SQL. */
const LEAKS = ['postgres://', 'mysql://', 'ECONN', 'at ', 'SELECT', 'INSERT', 'UPDATE', '127.0.0.1'];

interface Answer {
  method: string;
  path: string;
  status: number; // 0: the client gave up (the request hung)
  ms: number;
  text: string;
  body: any;
  headers: Headers | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the drivers' pools tell of their connections (pg-pool's public counts; mysql2's own lists). */
interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}
interface MysqlPool {
  _allConnections: { length: number };
  _freeConnections: { length: number };
}

/** The real server's address, from the URL the suite uses for this database. */
function targetOf(db: DatabaseName): { host: string; port: number; url: URL } {
  const url = new URL((DATABASES[db] as { url: string }).url);
  return { host: url.hostname, port: Number(url.port || (db === 'postgres' ? 5432 : 3306)), url };
}

/** The host's TypeORM options, through the proxy, with short driver timeouts. */
function throughProxy(db: DatabaseName, port: number): DataSourceOptions {
  const url = targetOf(db).url;
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const timeouts =
    db === 'postgres'
      ? { connectTimeoutMS: CONNECT_TIMEOUT_MS } // pg-pool's connectionTimeoutMillis: connect and wait for a client
      : { connectTimeout: CONNECT_TIMEOUT_MS }; // mysql2: TCP connect and handshake
  return hostDatabase(db, { url: url.toString(), ...timeouts } as Partial<DataSourceOptions>);
}

/** One adapter per database, alternating, so both adapters meet a fault in one run. */
const cases = testedDatabases()
  .filter((db): db is 'postgres' | 'mariadb' => db === 'postgres' || db === 'mariadb')
  .map((db, index) => [db, testedAdapters()[index % testedAdapters().length]] as const);

describeEach(cases)('database faults', ([db, adapter]: readonly [DatabaseName, AdapterName]) => {
  let proxy: TcpProxy;
  let app: INestApplication;
  let direct: DataSource; // straight to the server, for locks and for checking what was stored
  let base: string;

  beforeAll(async () => {
    proxy = new TcpProxy(targetOf(db));
    await proxy.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...throughProxy(db, proxy.port), retryAttempts: 0 }),
        LostReasonModule.forRoot({ apiKeys: [API_KEY], requestTimeoutMs: REQUEST_TIMEOUT_MS }),
      ],
    }).compile();
    app = moduleRef.createNestApplication(createAdapter(adapter), { logger: false });
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    direct = new DataSource({ ...DATABASES[db], entities: [LostReason, LostReasonIdempotencyKey] } as DataSourceOptions);
    await direct.initialize();
  });

  beforeEach(async () => {
    await direct.getRepository(LostReason).createQueryBuilder().delete().execute();
  });

  afterEach(async () => {
    await proxy.restore(); // a failed test must not leave the next one without a database
  });

  afterAll(async () => {
    await proxy?.restore();
    await app?.close();
    await direct?.destroy();
    await proxy?.stop();
  });

  async function call(method: string, path: string, body?: object, headers: Record<string, string> = {}): Promise<Answer> {
    const started = performance.now();
    try {
      const response = await fetch(base + path, {
        method,
        headers: { ...auth, ...headers, ...(body && { 'Content-Type': 'application/json' }) },
        body: body && JSON.stringify(body),
        signal: AbortSignal.timeout(CLIENT_ABORT_MS),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { method, path, status: response.status, ms: performance.now() - started, text, body: parsed, headers: response.headers };
    } catch (error) {
      return { method, path, status: 0, ms: performance.now() - started, text: String(error), body: undefined, headers: undefined };
    }
  }

  /** What every answer must be, fault or not: in time, a success or a clean 503, never a 500. */
  function expectWellBehaved(answer: Answer, success: number): void {
    const where = `${answer.method} ${answer.path} -> ${answer.status} in ${Math.round(answer.ms)} ms: ${answer.text.slice(0, 300)}`;
    expect({ where, inTime: answer.ms < ANSWER_BOUND_MS }).toEqual({ where, inTime: true });
    expect({ where, status: [success, 503].includes(answer.status) }).toEqual({ where, status: true });
    if (answer.status !== 503) return;
    expect(answer.body).toEqual(apiErrorBody());
    expect([UNAVAILABLE, TIMED_OUT]).toContain(answer.body.error.message);
    expect(answer.headers?.get(REQUEST_ID_HEADER)).toBe(answer.body.error.request_id);
    expect(answer.headers?.get('retry-after')).toBe('1');
    for (const leak of LEAKS) expect({ where, leak, found: answer.text.includes(leak) }).toEqual({ where, leak, found: false });
  }

  /** Polls create until it answers 201 (bounded): the module serves again, same process. */
  async function expectServesAgain(): Promise<number> {
    const started = performance.now();
    for (let attempt = 0; attempt < 40; attempt++) {
      const answer = await call('POST', RESOURCE, { lost_reason: 'back' });
      expectWellBehaved(answer, 201);
      if (answer.status === 201) return performance.now() - started;
      await sleep(250);
    }
    throw new Error(`${db}: the module did not serve again within the polling bound`);
  }

  it('answers 503 at once while the database refuses connections, then serves again without a restart', async () => {
    expect((await call('POST', RESOURCE, { lost_reason: 'before' })).status).toBe(201);
    proxy.cut('refuse');
    await sleep(100); // the pools notice their closed connections
    for (const [method, path, body] of [
      ['GET', RESOURCE],
      ['POST', RESOURCE, { lost_reason: 'during' }],
    ] as const) {
      const answer = await call(method, path, body);
      expectWellBehaved(answer, 503);
      expect(answer.status).toBe(503);
      expect(answer.body.error.message).toBe(UNAVAILABLE); // the driver's error, not the deadline: at once
    }
    await proxy.restore();
    await expectServesAgain();
    const list = await call('GET', RESOURCE);
    expect(list.status).toBe(200);
    expect(list.body.data.map((object: { lost_reason: string }) => object.lost_reason)).toEqual(['back', 'before']);
  }, 30_000);

  it('serves again after a fault while it built its statements: a look-up on a connection that died silently is not kept', async () => {
    // An app of its own, behind a proxy of its own: its start-up look-ups (count table, causal
    // reads) meet the fault, and the suite's app keeps its healthy connections.
    const ownProxy = new TcpProxy(targetOf(db));
    await ownProxy.start();
    const dataSource = await new DataSource({ ...throughProxy(db, ownProxy.port), migrationsRun: false, synchronize: false }).initialize();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRootAsync({ useFactory: () => dataSource.options, dataSourceFactory: async () => dataSource }),
        LostReasonModule.forRoot({ apiKeys: [API_KEY], requestTimeoutMs: REQUEST_TIMEOUT_MS }),
      ],
    }).compile();
    const other = moduleRef.createNestApplication(createAdapter(adapter), { logger: false });
    try {
      ownProxy.cut('refuse');
      await other.init(); // the look-ups fail: refused
      await other.listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${(other.getHttpServer().address() as { port: number }).port}${RESOURCE}`;
      await ownProxy.restore();
      await dataSource.query('SELECT 1'); // a live connection, idle in the pool...
      ownProxy.stallLive(); // ...that dies silently: the first request's look-ups take it
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 4 && statuses.at(-1) !== 200; attempt++) {
        const response = await fetch(url, { headers: auth, signal: AbortSignal.timeout(CLIENT_ABORT_MS) });
        statuses.push(response.status);
      }
      // One deadline for the look-up on the dead connection; then a new one on a fresh connection.
      expect(statuses.filter((status) => status !== 503)).toEqual([200]);
    } finally {
      await other.close();
      await ownProxy.stop();
    }
  }, 30_000);

  it('leaves an Idempotency-Key whose request failed with the database free again as soon as the database is back', async () => {
    const store = app.get(LostReasonIdempotency);
    const keys = direct.getRepository(LostReasonIdempotencyKey);
    const post = (key: string) =>
      fetch(base + RESOURCE, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: '{"lost_reason":"once"}',
      });
    // The claim is stored, then the database goes away before the create and the claim's release.
    const failDuringCreate = async () => {
      proxy.cut('refuse');
      throw new Error('the database went away');
    };
    for (const retry of ['the same key, at once', 'the same key, after the background release'] as const) {
      const key = `outage-${db}-${adapter}-${retry.length}-${Date.now()}`;
      await expect(store.run('', key, { lost_reason: 'once' }, failDuringCreate)).rejects.toThrow('the database went away');
      expect(await keys.countBy({ idempotency_key: key })).toBe(1); // the release failed
      await proxy.restore();
      if (retry === 'the same key, after the background release') {
        await sleep(2500);
        expect(await keys.countBy({ idempotency_key: key })).toBe(0);
      }
      const answer = await post(key);
      expect(answer.status).toBe(201);
      expect(answer.headers.get('idempotent-replayed')).toBeNull();
    }
  }, 30_000);

  it('answers every request in time under load while the connection is cut; writes are all-or-nothing', async () => {
    /** Objects whose id the clients know (their create answered 201), with every value sent to each. */
    const known = new Map<string, { created_at: string; values: Set<string> }>();
    const createStatus = new Map<string, number>(); // tag sent -> status
    const updatesOk: Array<{ id: string; updated_at: string; lost_reason: string }> = [];
    const answers: Answer[] = [];
    let sequence = 0;

    const create = async () => {
      const tag = `c-${++sequence}`;
      const answer = await call('POST', RESOURCE, { lost_reason: tag });
      answers.push(answer);
      createStatus.set(tag, answer.status);
      expectWellBehaved(answer, 201);
      if (answer.status === 201) {
        expect(answer.body).toEqual({
          id: expect.stringMatching(OBJECT_ID),
          created_at: expect.any(String),
          updated_at: answer.body.created_at,
          lost_reason: tag,
        });
        known.set(answer.body.id, { created_at: answer.body.created_at, values: new Set([tag]) });
      }
    };
    const update = async () => {
      const ids = [...known.keys()];
      const id = ids[Math.floor(Math.random() * ids.length)];
      const value = `u-${++sequence}`;
      known.get(id)!.values.add(value); // before sending: it may land even if the answer is a 503
      const answer = await call('PATCH', `${RESOURCE}/${id}`, { lost_reason: value });
      answers.push(answer);
      expectWellBehaved(answer, 200);
      if (answer.status === 200) {
        expect(answer.body).toMatchObject({ id, lost_reason: value });
        updatesOk.push(answer.body);
      }
    };
    const list = async () => {
      const answer = await call('GET', `${RESOURCE}?limit=5`);
      answers.push(answer);
      expectWellBehaved(answer, 200);
      if (answer.status === 200)
        expect(answer.body).toMatchObject({ data: expect.any(Array), has_more: expect.any(Boolean), total: expect.any(Number) });
    };

    for (let i = 0; i < 8; i++) await create();
    expect(known.size).toBe(8);

    // Load: 16 clients, each at most 150 requests; the proxy is cut after 600 ms, for 2.5 s.
    let stop = false;
    const worker = async () => {
      for (let i = 0; i < 150 && !stop; i++) {
        const pick = Math.random();
        await (pick < 0.4 ? create() : pick < 0.8 ? update() : list());
      }
    };
    const started = performance.now();
    const load = Promise.all(Array.from({ length: 16 }, worker));
    await sleep(600);
    const beforeCut = answers.length;
    proxy.cut('blackhole');
    await sleep(2500);
    stop = true;
    await load;
    const loadMs = performance.now() - started;
    await proxy.restore();
    const recoveryMs = await expectServesAgain();

    const during = answers.slice(beforeCut);
    const unavailable = during.filter((answer) => answer.status === 503);
    expect(answers.slice(0, beforeCut).length).toBeGreaterThan(0);
    expect(unavailable.length).toBeGreaterThan(0);
    expect(answers.every((answer) => answer.status !== 0 && answer.status !== 500)).toBe(true);

    // After recovery: what the database holds, read straight from the server.
    const rows = await direct.getRepository(LostReason).find();
    const byId = new Map(rows.map((row) => [row.id, row]));
    // Every create that answered 201 exists, with its own created_at and one of the values sent to it.
    for (const [id, { created_at, values }] of known) {
      const row = byId.get(id);
      expect({ id, stored: row !== undefined }).toEqual({ id, stored: true });
      expect(row!.created_at).toBe(created_at);
      expect(values.has(row!.lost_reason!)).toBe(true);
      expect(row!.updated_at >= row!.created_at).toBe(true);
    }
    // Every update that answered 200 is visible, or superseded by a later one.
    for (const updated of updatesOk) {
      const row = byId.get(updated.id)!;
      expect(row.updated_at >= updated.updated_at).toBe(true);
      if (row.updated_at === updated.updated_at) expect(row.lost_reason).toBe(updated.lost_reason);
    }
    // Other rows come from creates that did not answer 201: each landed completely, at most once.
    const others = rows.filter((row) => !known.has(row.id));
    for (const row of others) {
      expect(row.id).toMatch(OBJECT_ID);
      expect(row.lost_reason).toMatch(/^(c-\d+|back)$/);
      if (row.lost_reason !== 'back') expect(createStatus.get(row.lost_reason!)).toBe(503);
      expect(Number.isNaN(Date.parse(row.created_at))).toBe(false);
      expect(row.updated_at).toBe(row.created_at); // nobody knew its id to update it
    }
    const tags = others.map((row) => row.lost_reason).filter((tag) => tag !== 'back');
    expect(new Set(tags).size).toBe(tags.length);
    const failedCreates = [...createStatus.values()].filter((status) => status === 503).length;
    expect(tags.length).toBeLessThanOrEqual(failedCreates);
    // The total the API reports is the number of rows.
    const page = await call('GET', RESOURCE);
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(rows.length);
    expect(rows.length).toBe(known.size + others.length);

    console.log(
      `[faults ${db}/${adapter}] ${answers.length} requests in ${Math.round(loadMs)} ms (${during.length} from the cut on: ` +
        `${unavailable.length} x 503, slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms); ` +
        `${failedCreates} creates answered 503, ${tags.length} of them landed; serving again ${Math.round(recoveryMs)} ms after restore`,
    );
  }, 45_000);

  it('answers 503 in time when the network freezes without resetting connections, then serves again', async () => {
    expect((await call('POST', RESOURCE, { lost_reason: 'warm' })).status).toBe(201); // a pooled connection
    proxy.freeze();
    // Requests on pooled connections wait for an answer that never comes: only the deadline ends
    // them. Those needing a new connection end with the driver's connect timeout.
    const answers = await Promise.all([
      call('GET', RESOURCE),
      call('POST', RESOURCE, { lost_reason: 'frozen' }),
      call('GET', RESOURCE),
      call('POST', RESOURCE, { lost_reason: 'frozen' }),
    ]);
    for (const answer of answers) {
      expectWellBehaved(answer, 503);
      expect(answer.status).toBe(503);
    }
    expect(answers.map((answer) => answer.body.error.message)).toContain(TIMED_OUT);
    await proxy.restore();
    await expectServesAgain();
    // Each frozen create either landed once, entirely, or not at all.
    const rows = await direct.getRepository(LostReason).findBy({ lost_reason: 'frozen' });
    expect(rows.length).toBeLessThanOrEqual(2);
    for (const row of rows) expect(row.updated_at).toBe(row.created_at);
  }, 20_000);

  it('heals connections that die silently: service is back within one deadline of the stall, twice in a row', async () => {
    const WORKERS = 12; // more than the pool keeps (10 by default): every pooled connection gets a request
    let keys = 0;
    // Lists, and creates with an Idempotency-Key (whose statements and transaction are the module's too).
    const worker = async (until: number, answers: Array<Answer & { at: number }>, index: number) => {
      while (performance.now() < until) {
        const create = index > 0; // mostly creates: their claims alone would hold every stalled connection
        const answer = create
          ? await call('POST', RESOURCE, { lost_reason: 'stalled' }, { 'Idempotency-Key': `stall-${db}-${Date.now()}-${++keys}` })
          : await call('GET', `${RESOURCE}?limit=1`);
        answers.push({ ...answer, at: performance.now() });
        expectWellBehaved(answer, create ? 201 : 200);
      }
    };
    // Fill the pool with live connections.
    await Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(performance.now() + 500, [], index)));
    for (const round of [1, 2]) {
      proxy.stallLive();
      const stalledAt = performance.now();
      const answers: Array<Answer & { at: number }> = [];
      await Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(stalledAt + 3 * REQUEST_TIMEOUT_MS, answers, index)));
      // Requests on the stalled connections end at the deadline, and their connections are
      // dropped; from one deadline (plus scheduling slack) after the stall, everything succeeds.
      const healedAt = stalledAt + REQUEST_TIMEOUT_MS + 1000;
      const late = answers.filter((answer) => answer.at - answer.ms > healedAt);
      expect({ round, late: late.length > 0 }).toEqual({ round, late: true });
      expect({ round, failedLate: late.filter((answer) => answer.status >= 300).map((answer) => answer.status) }).toEqual({
        round,
        failedLate: [],
      });
      expect(answers.some((answer) => answer.status === 503)).toBe(true); // the stall was felt
    }
    // No connection was leaked by a deadline: once the load is over, every one is back and idle.
    await sleep(REQUEST_TIMEOUT_MS);
    const driver = app.get(DataSource).driver as unknown as { master?: PgPool; pool?: MysqlPool };
    if (db === 'postgres') {
      const { totalCount, idleCount, waitingCount } = driver.master!;
      expect({ busy: totalCount - idleCount, waiting: waitingCount }).toEqual({ busy: 0, waiting: 0 });
    } else {
      const pool = driver.pool!;
      expect({ busy: pool._allConnections.length - pool._freeConnections.length }).toEqual({ busy: 0 });
    }
  }, 60_000);

  it('serves a sequential client again after one deadline when every idle connection died silently', async () => {
    // The pool's default size, every connection opened and left idle: a quiet app after a busy hour.
    const POOL_SIZE = 10;
    const dataSource = app.get(DataSource);
    const runners = Array.from({ length: POOL_SIZE }, () => dataSource.createQueryRunner());
    await Promise.all(runners.map((runner) => runner.query('SELECT 1')));
    await Promise.all(runners.map((runner) => runner.release()));
    const driver = dataSource.driver as unknown as { master?: PgPool; pool?: MysqlPool };
    expect(db === 'postgres' ? driver.master!.idleCount : driver.pool!._freeConnections.length).toBe(POOL_SIZE);
    proxy.stallLive();
    // One request at a time, as a quiet client sends them: the first takes a dead connection and
    // ends at the deadline; the dead connections idle beside it must not be handed out after it.
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= POOL_SIZE && statuses.at(-1) !== 200; attempt++) {
      const answer = await call('GET', RESOURCE);
      expectWellBehaved(answer, 200);
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([503, 200]);
  }, 60_000);

  it('answers 503 in time when a statement is stuck behind a row lock, and keeps serving others', async () => {
    const created = await call('POST', RESOURCE, { lost_reason: 'locked' });
    expect(created.status).toBe(201);
    const { id } = created.body;
    const locker = direct.createQueryRunner();
    await locker.connect();
    try {
      await locker.startTransaction();
      await locker.manager.createQueryBuilder(LostReason, 'r').setLock('pessimistic_write').where('r.id = :id', { id }).getOne();
      const patch = call('PATCH', `${RESOURCE}/${id}`, { lost_reason: 'stuck' });
      await sleep(300);
      const meanwhile = await call('GET', `${RESOURCE}/${id}`); // a plain read is not blocked
      expect(meanwhile.status).toBe(200);
      const answer = await patch;
      expectWellBehaved(answer, 503);
      expect(answer.status).toBe(503);
      expect(answer.body.error.message).toBe(TIMED_OUT);
      expect(answer.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    } finally {
      await locker.rollbackTransaction().catch(() => undefined);
      await locker.release();
    }
    // The timed-out statement was not cancelled: once the lock is gone it completes, entirely.
    let stored: LostReason | null = null;
    for (let attempt = 0; attempt < 25 && stored?.lost_reason !== 'stuck'; attempt++) {
      await sleep(100);
      stored = await direct.getRepository(LostReason).findOneBy({ id });
    }
    expect(stored).toMatchObject({ id, lost_reason: 'stuck' });
    expect(stored!.updated_at > stored!.created_at).toBe(true);
    expect((await call('PATCH', `${RESOURCE}/${id}`, { lost_reason: 'free' })).status).toBe(200);
  }, 20_000);
});
