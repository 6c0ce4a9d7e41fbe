import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource, DataSourceOptions, DefaultNamingStrategy, NamingStrategyInterface } from 'typeorm';
import { LostReasonModule } from '../lib';
import { describeEach, testedDatabases, DATABASES, DatabaseName } from './support/databases';
import { API_KEY, auth, createHostApp, RESOURCE } from './support/host-app';

/** A host naming strategy that renames every column, so SQL written with bare names would fail. */
class PrefixedColumns extends DefaultNamingStrategy implements NamingStrategyInterface {
  override columnName(propertyName: string, customName: string, prefixes: string[]): string {
    return `col_${super.columnName(propertyName, customName, prefixes)}`;
  }
}

const SCHEMA = 'lost_reason_naming';

/**
 * The host's table prefix and naming strategy, and on PostgreSQL a non-default schema: the
 * module's SQL (written once per data source) must follow them all. Run with `synchronize`:
 * the shipped migrations name the default table and columns.
 */
const namedDatabase = (db: DatabaseName): Partial<DataSourceOptions> => ({
  entityPrefix: 'crm_',
  namingStrategy: new PrefixedColumns(),
  synchronize: true,
  migrationsRun: false,
  ...(db === 'postgres' ? { schema: SCHEMA } : {}),
  // SQLite index names are global to the file, so the prefixed table gets its own database.
  ...(db === 'sqlite' ? { database: ':memory:' } : {}),
});

describeEach(testedDatabases())("the host's table prefix, naming strategy and schema", (db) => {
  let app: INestApplication;

  beforeAll(async () => {
    if (db === 'postgres') {
      const admin = await new DataSource(DATABASES.postgres).initialize();
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await admin.query(`CREATE SCHEMA ${SCHEMA}`);
      await admin.destroy();
    }
    app = await createHostApp({ db, imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY] })], database: namedDatabase(db) });
  });
  afterAll(async () => {
    const dataSource = app?.get(DataSource);
    if (db === 'postgres') await dataSource?.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
    if (db === 'mariadb') await dataSource?.query('DROP TABLE crm_opportunity_lost_reason, crm_opportunity_lost_reason_idempotency');
    await app?.close();
  });

  it('stores in the prefixed table, under the renamed columns', async () => {
    const metadata = app.get(DataSource).getRepository('LostReason').metadata;
    expect(metadata.tableName).toBe('crm_opportunity_lost_reason');
    expect(metadata.findColumnWithPropertyName('created_at')?.databaseName).toBe('col_created_at');
    if (db === 'postgres') expect(metadata.tablePath).toBe(`${SCHEMA}.crm_opportunity_lost_reason`);
  });

  it('serves every operation: create, retrieve, both list forms, update, delete', async () => {
    const server = app.getHttpServer();
    const ids: string[] = [];
    for (const reason of ['first', 'second', 'third']) {
      ids.push((await request(server).post(RESOURCE).set(auth).send({ lost_reason: reason }).expect(201)).body.id);
    }
    const retrieved = await request(server).get(`${RESOURCE}/${ids[0]}`).set(auth).expect(200);
    expect(retrieved.body.lost_reason).toBe('first');

    const page = await request(server).get(`${RESOURCE}?limit=2`).set(auth).expect(200);
    expect(page.body).toMatchObject({ has_more: true, total: 3 });
    expect(page.body.data.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
    const next = await request(server).get(`${RESOURCE}?limit=2&starting_after=${ids[1]}`).set(auth).expect(200);
    expect(next.body).toMatchObject({ has_more: false, total: 3, data: [{ id: ids[0] }] });
    const previous = await request(server).get(`${RESOURCE}?limit=2&ending_before=${ids[0]}`).set(auth).expect(200);
    expect(previous.body.data.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);

    const updated = await request(server).patch(`${RESOURCE}/${ids[0]}`).set(auth).send({ lost_reason: 'changed' }).expect(200);
    expect(updated.body).toMatchObject({ id: ids[0], lost_reason: 'changed', created_at: retrieved.body.created_at });
    expect(updated.body.updated_at > retrieved.body.updated_at).toBe(true);

    await request(server).delete(`${RESOURCE}/${ids[0]}`).set(auth).expect(200, { id: ids[0], deleted: true });
    await request(server).get(`${RESOURCE}/${ids[0]}`).set(auth).expect(404);
    expect((await request(server).get(RESOURCE).set(auth).expect(200)).body.total).toBe(2);
  });
});
