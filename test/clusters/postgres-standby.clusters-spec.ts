import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSourceOptions } from 'typeorm';
import { LOST_REASON_MIGRATIONS, LostReasonModule } from '../../lib';
import { RELEASE_RETRY_MS } from '../../lib/idempotency/idempotency.constants';
import { AdapterName } from '../support/adapters';
import { eventually } from '../support/eventually';
import { auth, createHostApp, RESOURCE } from '../support/host-app';
import { connectPostgres, PostgresPair, startPostgresPair } from './clusters';
import { CLUSTER_API_KEYS, MixedLoad } from './mixed-load';

/**
 * The module on a real PostgreSQL primary with a streaming hot standby (TypeORM `replication`):
 * writes on the primary, reads on the standby, and what each answers while the other is down. Three
 * app instances (Express, Fastify, Express) on the schema the shipped migrations build.
 */
describe('PostgreSQL primary and hot standby', () => {
  let pair: PostgresPair;
  let apps: INestApplication[] = [];
  const adapters: AdapterName[] = ['express', 'fastify', 'express'];
  const api = () => request(apps[0].getHttpServer());
  /** An app's database: writes on the primary, reads on the standby, the schema the shipped migrations build. */
  const pairDatabase = () =>
    ({
      url: undefined,
      replication: { master: { url: pair.primary.url }, slaves: [{ url: pair.standby.url }] },
      synchronize: false,
      migrationsRun: true,
      migrations: LOST_REASON_MIGRATIONS,
    }) as Partial<DataSourceOptions>;

  beforeAll(async () => {
    pair = await startPostgresPair();
    for (const [i, adapter] of adapters.entries()) {
      const imports = [LostReasonModule.forRoot({ apiKeys: CLUSTER_API_KEYS })];
      apps.push(await createHostApp({ db: 'postgres', adapter, database: pairDatabase(), imports, keepRows: i > 0 }));
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    await pair?.stop();
  }, 60_000);

  it('writes on the primary and reads on the standby once it has replayed the write', async () => {
    const { body: created } = await api().post(RESOURCE).set(auth).send({ lost_reason: 'primary' }).expect(201);
    await pair.waitForStandby();
    expect((await api().get(`${RESOURCE}/${created.id}`).set(auth).expect(200)).body).toEqual(created);
  });

  it('replays an Idempotency-Key retry from the primary while the standby lags (its replay paused)', async () => {
    const standby = await connectPostgres(pair.standby.url);
    await standby.query('SELECT pg_wal_replay_pause()');
    try {
      const send = () => api().post(RESOURCE).set(auth).set('Idempotency-Key', 'lagging-standby').send({ lost_reason: 'once' });
      const first = await send().expect(201);
      const retry = await send().expect(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
    } finally {
      await standby.query('SELECT pg_wal_replay_resume()');
      await standby.end();
    }
  });

  it('answers reads from the primary while the standby is down, writes as usual, and reads from the standby again once it is back', async () => {
    await pair.stopStandby();
    try {
      const { body: created } = await api().post(RESOURCE).set(auth).send({ lost_reason: 'while the standby is down' }).expect(201);
      for (let i = 0; i < 3; i++) {
        expect((await api().get(`${RESOURCE}/${created.id}`).set(auth).expect(200)).body).toEqual(created);
        expect((await api().get(RESOURCE).set(auth).expect(200)).body.data[0]).toEqual(created);
      }
    } finally {
      await pair.startStandby();
    }
    await pair.waitForStandby();
    await eventually(async () => (await api().get(RESOURCE).set(auth)).status === 200);
  }, 60_000);

  it('serves an Idempotency-Key retry through either app within one deadline of a synchronous standby coming back, with one object', async () => {
    // While the synchronous standby is down, the primary holds every commit: the claim of the
    // first request is written but not acknowledged, so it answers 503 after its deadline, and
    // its claim (status NULL) commits only once the standby is back, with nobody left to
    // complete or release it. A retry, through the same app or another one, must then be
    // served within one deadline, not be told 409 idempotency_key_in_use until a lock timeout.
    const requestTimeoutMs = 2_000;
    const margin = 1_500;
    const quickApps: INestApplication[] = [];
    const primary = await connectPostgres(pair.primary.url);
    const synchronous = async (names: string | undefined) => {
      await primary.query(
        names === undefined ? 'ALTER SYSTEM RESET synchronous_standby_names' : `ALTER SYSTEM SET synchronous_standby_names = '${names}'`,
      );
      await primary.query('SELECT pg_reload_conf()');
    };
    try {
      for (const adapter of ['express', 'fastify'] as AdapterName[]) {
        const imports = [LostReasonModule.forRoot({ apiKeys: CLUSTER_API_KEYS, requestTimeoutMs })];
        quickApps.push(await createHostApp({ db: 'postgres', adapter, database: pairDatabase(), imports, keepRows: true }));
      }
      await synchronous('*');
      await pair.stopStandby();
      const reason = 'with the synchronous standby down';
      const send = (app: INestApplication) =>
        request(app.getHttpServer())
          .post(RESOURCE)
          .set(auth)
          .set('Idempotency-Key', 'synchronous-standby-down')
          .send({ lost_reason: reason });
      const sent = Date.now();
      const first = await send(quickApps[0]);
      expect({ status: first.status, retryAfter: first.headers['retry-after'] }).toEqual({ status: 503, retryAfter: expect.any(String) });
      expect(Date.now() - sent).toBeGreaterThanOrEqual(requestTimeoutMs - 50);
      // Down a little longer, as in an outage of some seconds: the app's background release of the
      // failed claim runs meanwhile and finds nothing to delete (the claim is not committed yet).
      await new Promise((resolve) => setTimeout(resolve, RELEASE_RETRY_MS + 500));
      await pair.startStandby();
      const back = Date.now();
      // Both apps retry at once, as clients do (a 503 or a 409 idempotency_key_in_use is tried again).
      const bound = requestTimeoutMs + margin;
      const served = await Promise.all(
        quickApps.map(async (app) => {
          const seen = new Map<string, number>();
          for (;;) {
            const answer = await send(app);
            const after = Date.now() - back;
            if (answer.status === 201 || after > bound) {
              const before = [...seen].map(([status, times]) => `${status} x${times}`).join(', ');
              return {
                status: answer.status,
                body: answer.body,
                within: after <= bound,
                answers: `${answer.status} after ${after} ms (before: ${before})`,
              };
            }
            const status = `${answer.status} ${answer.body?.error?.code ?? ''}`.trim();
            seen.set(status, (seen.get(status) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }),
      );
      for (const { status, within, answers } of served) expect({ status, within, answers }).toEqual({ status: 201, within: true, answers });
      expect(served[1].body).toEqual(served[0].body);
      const { rows } = await primary.query<{ n: string }>('SELECT COUNT(*) AS n FROM opportunity_lost_reason WHERE lost_reason = $1', [
        reason,
      ]);
      expect(Number(rows[0].n)).toBe(1);
    } finally {
      await synchronous(undefined);
      await pair.startStandby();
      await primary.end();
      await Promise.all(quickApps.map((app) => app.close()));
    }
  }, 60_000);

  it('cannot start a host while a listed standby is down: TypeORM connects every pool at start-up (the documented limit)', async () => {
    // The module cannot change this: TypeORM's initialize() opens one connection per pool, the
    // standby's included, and fails on the first refusal. docs/faults-and-scaling.md gives the
    // workarounds. If a TypeORM release lifts this, this test says so.
    await pair.stopStandby();
    try {
      const database = {
        url: undefined,
        replication: { master: { url: pair.primary.url }, slaves: [{ url: pair.standby.url }] },
      } as Partial<DataSourceOptions>;
      await expect(createHostApp({ db: 'postgres', database, keepRows: true })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await pair.startStandby();
    }
  }, 60_000);

  it('answers 503 (never 500, never a hang) while the primary restarts, and serves again after it without a restart of the app', async () => {
    const statuses = new Set<number>();
    let restarting = true;
    const restart = pair.restartPrimary().finally(() => (restarting = false));
    while (restarting) statuses.add((await api().post(RESOURCE).set(auth).send({ lost_reason: 'during restart' })).status);
    await restart;
    expect([...statuses].filter((status) => status !== 201 && status !== 503)).toEqual([]);
    await eventually(async () => (await api().post(RESOURCE).set(auth).send({ lost_reason: 'after restart' })).status === 201);
  }, 60_000);

  it('holds every guarantee under a mixed load through three apps, with the standby stopped and the primary restarted mid-load', async () => {
    // Reads go to the standby, which applies writes after the primary acknowledged them: a read
    // right after a write may lag (tried again until it catches up, and counted).
    const load = new MixedLoad(apps, 5_000);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 3_000));
    load.start();
    await pause();
    await pair.stopStandby();
    await pause();
    await pair.startStandby();
    await pause();
    await pair.restartPrimary();
    await pause();
    await load.stop();
    await pair.waitForStandby();
    const servers = await Promise.all([pair.primary.url, pair.standby.url].map((url) => connectPostgres(url)));
    try {
      await load.verify(servers.map((server) => async (sql: string) => (await server.query(sql)).rows));
    } finally {
      await Promise.all(servers.map((server) => server.end()));
    }
    load.expectHeld();
  }, 240_000);
});
