import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource, DataSourceOptions } from 'typeorm';
import { LOST_REASON_ENTITIES, LostReason, LostReasonModule } from '../lib';
import { dialectOf } from '../lib/persistence/dialects/dialect.registry';
import { DATABASES, describeEach, dropModuleSchema, testedDatabases } from './support/databases';
import { API_KEY, auth, RESOURCE } from './support/host-app';

const REPLICA_DATABASE = 'lost_reason_replica';

/** The URL of the primary's server with another database name. */
const replicaUrl = (url: string) => url.replace(/\/[^/?]+(\?|$)/, `/${REPLICA_DATABASE}$1`);

/**
 * TypeORM's `replication` option, with a "replica" that is a separate, unreplicated database,
 * so which side answered is visible: the module's reads (retrieve, list) go to the replica, its
 * writes and the reads a write depends on (MariaDB finds the row before locking it; the
 * compare-and-set retry reads the current `updated_at`) go to the primary.
 */
describeEach(testedDatabases().filter((db) => db !== 'sqlite'))('read replicas (TypeORM replication)', (db) => {
  let app: INestApplication;
  let replica: DataSource;
  const primaryUrl = (DATABASES[db] as { url: string }).url;

  beforeAll(async () => {
    // Both sides built by synchronize alike (a real replica mirrors the primary's schema).
    await dropModuleSchema(db);
    const admin = await new DataSource(DATABASES[db]).initialize();
    if (db === 'postgres') {
      await admin.query(`CREATE DATABASE ${REPLICA_DATABASE}`).catch((error) => {
        if (error?.driverError?.code !== '42P04') throw error; // already exists
      });
    } else {
      await admin.query(`CREATE DATABASE IF NOT EXISTS ${REPLICA_DATABASE} CHARACTER SET utf8mb4`);
    }
    await admin.destroy();
    replica = await new DataSource({
      ...DATABASES[db],
      url: replicaUrl(primaryUrl),
      entities: [...LOST_REASON_ENTITIES],
      synchronize: true,
    } as DataSourceOptions).initialize();
    await replica.getRepository(LostReason).createQueryBuilder().delete().execute();

    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          type: DATABASES[db].type,
          replication: { master: { url: primaryUrl }, slaves: [{ url: replicaUrl(primaryUrl) }] },
          entities: [...LOST_REASON_ENTITIES],
          synchronize: true,
          retryAttempts: 0,
        } as DataSourceOptions),
        LostReasonModule.forRoot({ apiKeys: [API_KEY] }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.get(DataSource).getRepository(LostReason).createQueryBuilder().delete().execute();
  });
  afterAll(async () => {
    await app?.close();
    await replica?.destroy();
    const admin = await new DataSource(DATABASES[db]).initialize();
    await admin.query(`DROP DATABASE IF EXISTS ${REPLICA_DATABASE}`);
    await admin.destroy();
  });

  it('writes on the primary and reads on the replica (no read-your-writes, as documented)', async () => {
    const server = app.getHttpServer();
    const { id } = (await request(server).post(RESOURCE).set(auth).send({ lost_reason: 'primary' }).expect(201)).body;
    // The replica has not received it: this is the caveat docs/faults-and-scaling.md states.
    await request(server).get(`${RESOURCE}/${id}`).set(auth).expect(404);
    expect((await request(server).get(RESOURCE).set(auth).expect(200)).body.total).toBe(0);
    // Updates and deletes find the object on the primary, however far behind the replica is.
    for (let i = 0; i < 5; i++) {
      await request(server)
        .patch(`${RESOURCE}/${id}`)
        .set(auth)
        .send({ lost_reason: `again ${i}` })
        .expect(200);
    }
    await request(server).delete(`${RESOURCE}/${id}`).set(auth).expect(200, { id, deleted: true });
    await request(server).delete(`${RESOURCE}/${id}`).set(auth).expect(404);
  });

  it('runs reads prepared on the replica’s connections and writes on the primary’s', async () => {
    const executed = jest.spyOn(dialectOf(app.get(DataSource)), 'executePrepared' as never) as jest.SpyInstance;
    try {
      const server = app.getHttpServer();
      const { id } = (await request(server).post(RESOURCE).set(auth).send({ lost_reason: 'where' }).expect(201)).body;
      await request(server).get(RESOURCE).set(auth).expect(200);
      await request(server).patch(`${RESOURCE}/${id}`).set(auth).send({ lost_reason: 'there' }).expect(200);
      // pg's Client names its database at `database`; a mysql2 connection at `config.database`.
      const databaseOf = (connection: { database?: string; config?: { database?: string } }) =>
        connection.database ?? connection.config?.database;
      const used = executed.mock.calls.map(([connection, sql]) => `${String(sql).split(' ')[0]} on ${databaseOf(connection)}`);
      const primary = new URL(primaryUrl).pathname.slice(1);
      expect(used).toContain(`INSERT on ${primary}`);
      expect(used).toContain(`SELECT on ${REPLICA_DATABASE}`); // the list
      expect(used).toContain(`UPDATE on ${primary}`);
      expect(used.filter((statement) => !statement.startsWith('SELECT') && statement.endsWith(REPLICA_DATABASE))).toEqual([]);
    } finally {
      executed.mockRestore();
    }
  });

  it('serves what the replica holds', async () => {
    const at = '2026-01-01T00:00:00.000Z';
    const id = `opportunity-lost-reason_${'c'.repeat(32)}`;
    await replica.getRepository(LostReason).insert({ id, created_at: at, updated_at: at, lost_reason: 'replicated' });
    const retrieved = await request(app.getHttpServer()).get(`${RESOURCE}/${id}`).set(auth).expect(200);
    expect(retrieved.body).toEqual({ id, created_at: at, updated_at: at, lost_reason: 'replicated' });
    expect((await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(200)).body.total).toBe(1);
  });
});
