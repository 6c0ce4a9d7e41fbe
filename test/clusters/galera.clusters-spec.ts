import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSourceOptions } from 'typeorm';
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
    // One after the other: each app synchronizes the schema, and DDL on Galera is cluster-wide.
    for (const [i, node] of cluster.nodes.entries()) {
      const database = { url: node.url, extra: { connectionLimit: 4 } } as Partial<DataSourceOptions>;
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
