import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource, DataSourceOptions } from 'typeorm';
import { LOST_REASON_MIGRATIONS } from '../../lib';
import { AdapterName } from '../support/adapters';
import { eventually } from '../support/eventually';
import { auth, createHostApp, RESOURCE } from '../support/host-app';
import { GaleraCluster, startGalera } from './clusters';

/**
 * The module on a real 3-node MariaDB Galera cluster (started from Debian's packages on ports of its
 * own), one app instance per node, Express and Fastify: what a node that loses the cluster answers.
 */
describe('MariaDB Galera, one app per node', () => {
  let cluster: GaleraCluster;
  let apps: INestApplication[] = [];
  const adapters: AdapterName[] = ['express', 'fastify', 'express'];
  const api = (i: number) => request(apps[i].getHttpServer());

  beforeAll(async () => {
    cluster = await startGalera();
    // The schema a production host builds (the shipped migrations, with the count triggers), by the
    // first app; the others find the migrations applied (DDL on Galera is cluster-wide).
    for (const [i, node] of cluster.nodes.entries()) {
      const database = {
        url: node.url,
        extra: { connectionLimit: 16 },
        synchronize: false,
        migrationsRun: true,
        migrations: LOST_REASON_MIGRATIONS,
      } as Partial<DataSourceOptions>;
      apps.push(await createHostApp({ db: 'mariadb', adapter: adapters[i], database, keepRows: i > 0 }));
    }
  }, 240_000);
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    await cluster?.stop();
  }, 60_000);

  it('serves an object created through one node from the others', async () => {
    const { body: created } = await api(0).post(RESOURCE).set(auth).send({ lost_reason: 'cluster' }).expect(201);
    for (const i of [1, 2]) {
      // Replication to the other nodes is asynchronous to the client: wait for it here (causal reads are a later step).
      await eventually(async () => (await api(i).get(`${RESOURCE}/${created.id}`).set(auth)).status === 200);
    }
  }, 30_000);

  it('counts creates through every node at once without a conflict between nodes, and totals stay exact', async () => {
    // Each node's creates update counter rows of their own: rows shared between nodes would fail
    // Galera's certification (a deadlock error, a 503) whenever two nodes write them at once.
    const triggers = await apps[0]
      .get(DataSource)
      .query("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_TABLE = 'opportunity_lost_reason'");
    expect(triggers).toHaveLength(3); // the counter is kept by the migration's triggers on this schema
    const statuses = new Map<number, number>();
    await Promise.all(
      [0, 1, 2].flatMap((i) =>
        Array.from({ length: 16 }, async () => {
          for (let n = 0; n < 24; n++) {
            const { status } = await api(i)
              .post(RESOURCE)
              .set(auth)
              .send({ lost_reason: `load ${i}` });
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      ),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 201: 3 * 16 * 24 });
    const [{ n }] = await apps[0].get(DataSource).query('SELECT COUNT(*) AS n FROM opportunity_lost_reason');
    for (const i of [0, 1, 2]) {
      await eventually(async () => (await api(i).get(RESOURCE).set(auth)).body.total === Number(n));
    }
  }, 60_000);

  it('answers 503 with Retry-After (never 500) on a node cut off from the cluster, and serves again once it rejoins', async () => {
    await cluster.isolate(1);
    try {
      for (const call of [() => api(1).get(RESOURCE).set(auth), () => api(1).post(RESOURCE).set(auth).send({ lost_reason: 'cut off' })]) {
        const answer = await call();
        expect({ status: answer.status, type: answer.body.error?.type }).toEqual({ status: 503, type: 'api_error' });
        expect(answer.headers['retry-after']).toBe('1');
      }
      // The rest of the cluster goes on.
      await api(0).post(RESOURCE).set(auth).send({ lost_reason: 'while one node is out' }).expect(201);
    } finally {
      await cluster.rejoin(1);
    }
    await api(1).post(RESOURCE).set(auth).send({ lost_reason: 'back' }).expect(201);
    const { body } = await api(1).get(RESOURCE).set(auth).expect(200);
    expect(body.data.map((object: { lost_reason: string }) => object.lost_reason)).toEqual(
      expect.arrayContaining(['while one node is out', 'back']),
    );
  }, 60_000);
});
