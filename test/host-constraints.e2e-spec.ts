import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  InvalidRequestException,
  LostReasonAlreadyExistsException,
  LostReasonConstraintException,
  LostReasonIdempotencyKey,
  LostReasonInUseException,
  LostReasonService,
  REQUEST_ID_PATTERN,
} from '../lib';
import { testedAdapters } from './support/adapters';
import { DatabaseName, describeEach, testedDatabases } from './support/databases';
import { auth, createHostApp, RESOURCE } from './support/host-app';

/**
 * Constraints a host declares on the module's table or to it, as docs/service.md shows them: a
 * foreign key from its own table to the objects' ids, a unique index on the reasons' text, CHECKs.
 * Each answers a typed 400, through the API and the service, and changes nothing.
 */
const cases = testedDatabases().flatMap((db) => testedAdapters().map((adapter) => [db, adapter] as const));

const TABLE = 'opportunity_lost_reason';

/** The host's table referencing the module's objects, as docs/service.md writes it for each database. */
async function createHostOpportunityTable(db: DatabaseName, dataSource: DataSource): Promise<void> {
  if (db === 'postgres') {
    await dataSource.query(
      `CREATE TABLE host_opportunity (id serial PRIMARY KEY, lost_reason_id varchar(64) REFERENCES ${TABLE} (id) ON DELETE RESTRICT)`,
    );
  } else if (db === 'mariadb') {
    // InnoDB takes a foreign key only between columns of one character set and collation.
    const [{ charset, collation }]: { charset: string; collation: string }[] = await dataSource.query(
      `SELECT CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'id'`,
      [TABLE],
    );
    await dataSource.query(
      `CREATE TABLE host_opportunity (id INT AUTO_INCREMENT PRIMARY KEY,
         lost_reason_id VARCHAR(64) CHARACTER SET ${charset} COLLATE ${collation},
         FOREIGN KEY (lost_reason_id) REFERENCES ${TABLE} (id) ON DELETE RESTRICT)`,
    );
  } else {
    await dataSource.query(
      `CREATE TABLE host_opportunity (id INTEGER PRIMARY KEY, lost_reason_id VARCHAR(64) REFERENCES ${TABLE} (id) ON DELETE RESTRICT)`,
    );
  }
}

/** One reason per text within a tenant, whatever its case (MariaDB: the column's `_ci` collation already ignores case). */
const uniqueIndex = (db: DatabaseName) =>
  db === 'mariadb'
    ? `CREATE UNIQUE INDEX host_lost_reason_unique ON ${TABLE} (tenant_id, lost_reason)`
    : `CREATE UNIQUE INDEX host_lost_reason_unique ON ${TABLE} (tenant_id, lower(lost_reason))`;

/**
 * Rebuilds the module's SQLite table with `clause` added to its definition, or as it was without
 * it (SQLite's ALTER TABLE cannot add a constraint): its rows are copied back before its indexes
 * and triggers are made again, so the count triggers do not count them twice.
 */
async function rebuildSqliteTable(dataSource: DataSource, clause: string, add: boolean): Promise<void> {
  const objects: { type: string; sql: string }[] = await dataSource.query(
    'SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL',
    [TABLE],
  );
  const table = objects.find(({ type }) => type === 'table')!.sql;
  const rebuilt = add ? table.replace(/\)\s*$/, `, ${clause})`) : table.replace(`, ${clause}`, '');
  await dataSource.query(`CREATE TEMP TABLE saved_rows AS SELECT * FROM ${TABLE}`);
  await dataSource.query(`DROP TABLE ${TABLE}`);
  await dataSource.query(rebuilt);
  await dataSource.query(`INSERT INTO ${TABLE} SELECT * FROM saved_rows`);
  await dataSource.query('DROP TABLE saved_rows');
  for (const { type, sql } of objects) if (type !== 'table') await dataSource.query(sql);
}

describeEach(cases)("A host's constraints on the module's table", ([db, adapter]) => {
  let app: INestApplication;
  let dataSource: DataSource;
  let service: LostReasonService;
  const api = () => request(app.getHttpServer());
  const create = async (lostReason: string) => (await api().post(RESOURCE).set(auth).send({ lost_reason: lostReason }).expect(201)).body;
  const total = async () => (await api().get(RESOURCE).set(auth).expect(200)).body.total;

  beforeAll(async () => {
    app = await createHostApp({ db, adapter });
    dataSource = app.get(DataSource);
    service = app.get(LostReasonService);
  });
  afterAll(() => app?.close());
  afterEach(async () => {
    await dataSource.query('DROP TABLE IF EXISTS host_opportunity');
    await dataSource.query(
      db === 'mariadb' ? `DROP INDEX IF EXISTS host_lost_reason_unique ON ${TABLE}` : 'DROP INDEX IF EXISTS host_lost_reason_unique',
    );
    await dataSource.query(`DELETE FROM ${TABLE}`);
  });

  /** The body of a typed 400, with the request's id that the `Request-Id` header also carries. */
  function expectRefusal(response: request.Response, error: Record<string, unknown>): void {
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: { type: 'invalid_request_error', message: expect.any(String), ...error, request_id: expect.any(String) },
    });
    expect(response.body.error.request_id).toMatch(REQUEST_ID_PATTERN);
    expect(response.headers['request-id']).toBe(response.body.error.request_id);
  }

  describe('a foreign key from a host table to the objects', () => {
    let referenced: { id: string };
    beforeEach(async () => {
      await createHostOpportunityTable(db, dataSource);
      referenced = await create('Budget');
      await dataSource.query(`INSERT INTO host_opportunity (lost_reason_id) VALUES (${db === 'postgres' ? '$1' : '?'})`, [referenced.id]);
    });

    it('refuses to delete a referenced object: 400 resource_in_use, and the object stays', async () => {
      const before = await total();
      const refused = await api().delete(`${RESOURCE}/${referenced.id}`).set(auth);
      expectRefusal(refused, { code: 'resource_in_use' });
      expect(refused.body.error.message).toMatch(/referenced by other records and cannot be deleted/);
      expect((await api().get(`${RESOURCE}/${referenced.id}`).set(auth).expect(200)).body).toEqual(await service.retrieve(referenced.id));
      expect(await total()).toBe(before);
      // Unreferenced, it goes.
      await dataSource.query('DELETE FROM host_opportunity');
      await api().delete(`${RESOURCE}/${referenced.id}`).set(auth).expect(200);
      expect(await total()).toBe(before - 1);
    });

    it('deletes the objects nothing references', async () => {
      const free = await create('Price');
      await api().delete(`${RESOURCE}/${free.id}`).set(auth).expect(200);
    });

    it('the service throws LostReasonInUseException, an InvalidRequestException', async () => {
      const refusal = await service.delete(referenced.id).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(LostReasonInUseException);
      expect(refusal).toBeInstanceOf(InvalidRequestException);
      expect(refusal).toMatchObject({ id: referenced.id, code: 'resource_in_use' });
      await expect(service.retrieve(referenced.id)).resolves.toMatchObject({ id: referenced.id });
    });

    it("inside the host's transaction: the same exception, and the transaction's other writes roll back with it", async () => {
      const before = await total();
      await expect(
        dataSource.transaction(async (manager) => {
          await service.withManager(manager).create({ lost_reason: 'written before the refusal' });
          await service.withManager(manager).delete(referenced.id);
        }),
      ).rejects.toBeInstanceOf(LostReasonInUseException);
      expect(await total()).toBe(before);
      await expect(service.retrieve(referenced.id)).resolves.toMatchObject({ lost_reason: 'Budget' });
    });
  });

  describe('a unique index on the text, within a tenant', () => {
    beforeEach(() => dataSource.query(uniqueIndex(db)));

    it('refuses a second create of the same text: 400 resource_already_exists on lost_reason, nothing created', async () => {
      await create('Budget');
      const before = await total();
      expectRefusal(await api().post(RESOURCE).set(auth).send({ lost_reason: 'budget' }), {
        code: 'resource_already_exists',
        param: 'lost_reason',
      });
      expect(await total()).toBe(before);
    });

    it('refuses an update to the text of another object, and leaves it as it was', async () => {
      await create('Budget');
      const price = await create('Price');
      expectRefusal(await api().patch(`${RESOURCE}/${price.id}`).set(auth).send({ lost_reason: 'BUDGET' }), {
        code: 'resource_already_exists',
        param: 'lost_reason',
      });
      expect((await api().get(`${RESOURCE}/${price.id}`).set(auth).expect(200)).body).toEqual(price);
    });

    it('the service throws LostReasonAlreadyExistsException, also inside the host transaction', async () => {
      const budget = await service.create({ lost_reason: 'Budget' });
      await expect(service.create({ lost_reason: 'budget' })).rejects.toBeInstanceOf(LostReasonAlreadyExistsException);
      const price = await service.create({ lost_reason: 'Price' });
      const refusal = await service.update(price.id, { lost_reason: 'budget' }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(LostReasonAlreadyExistsException);
      expect(refusal).toMatchObject({ param: 'lost_reason', code: 'resource_already_exists' });
      await expect(
        dataSource.transaction(async (manager) => {
          await service.withManager(manager).update(budget.id, { lost_reason: 'written before the refusal' });
          await service.withManager(manager).create({ lost_reason: 'PRICE' });
        }),
      ).rejects.toBeInstanceOf(LostReasonAlreadyExistsException);
      expect(await service.retrieve(budget.id)).toEqual(budget);
      expect(await service.retrieve(price.id)).toEqual(price);
      expect((await service.list()).total).toBe(2);
    });

    it('with an Idempotency-Key: the 400, no key kept, and a retry with the key runs again', async () => {
      const budget = await create('Budget');
      const key = `host-constraint-${db}-${adapter}`;
      const post = () => api().post(RESOURCE).set(auth).set('Idempotency-Key', key).send({ lost_reason: 'budget' });
      const keys = () => dataSource.getRepository(LostReasonIdempotencyKey).countBy({ idempotency_key: key });
      for (let attempt = 0; attempt < 2; attempt++) {
        expectRefusal(await post(), { code: 'resource_already_exists', param: 'lost_reason' });
        expect(await keys()).toBe(0);
      }
      expect(await total()).toBe(1);
      // What refused it is gone: the same request with the same key now creates.
      await api().delete(`${RESOURCE}/${budget.id}`).set(auth).expect(200);
      const created = await post().expect(201);
      expect(created.body.lost_reason).toBe('budget');
      expect((await post().expect(201)).headers['idempotent-replayed']).toBe('true');
    });
  });

  describe('CHECK constraints', () => {
    // PostgreSQL and SQLite name an unnamed CHECK after the column or by its text; MariaDB, by the
    // name it was given. The second constraint's name and report do not name the column.
    const named = db === 'mariadb' ? 'CONSTRAINT lost_reason_short ' : '';
    const short = `${named}CHECK (${db === 'mariadb' ? 'char_length' : 'length'}(lost_reason) < 50)`;
    const rule = "CONSTRAINT host_rule CHECK (lost_reason IS NULL OR lost_reason <> 'forbidden')";
    const add = async (clause: string) =>
      db === 'sqlite' ? rebuildSqliteTable(dataSource, clause, true) : dataSource.query(`ALTER TABLE ${TABLE} ADD ${clause}`);
    const remove = async (clause: string, name: string) =>
      db === 'sqlite' ? rebuildSqliteTable(dataSource, clause, false) : dataSource.query(`ALTER TABLE ${TABLE} DROP CONSTRAINT ${name}`);

    it('answers a CHECK on lost_reason with a 400 on lost_reason, and one that names no column without param', async () => {
      const kept = await create('Budget');
      await add(short);
      await add(rule);
      try {
        const before = await total();
        expectRefusal(
          await api()
            .post(RESOURCE)
            .set(auth)
            .send({ lost_reason: 'x'.repeat(60) }),
          { param: 'lost_reason' },
        );
        expectRefusal(
          await api()
            .patch(`${RESOURCE}/${kept.id}`)
            .set(auth)
            .send({ lost_reason: 'x'.repeat(60) }),
          {
            param: 'lost_reason',
          },
        );
        expectRefusal(await api().post(RESOURCE).set(auth).send({ lost_reason: 'forbidden' }), {});
        const refusal = await service.update(kept.id, { lost_reason: 'forbidden' }).catch((error: unknown) => error);
        expect(refusal).toBeInstanceOf(LostReasonConstraintException);
        expect((refusal as LostReasonConstraintException).param).toBeUndefined();
        expect(await total()).toBe(before);
        expect((await api().get(`${RESOURCE}/${kept.id}`).set(auth).expect(200)).body).toEqual(kept);
      } finally {
        await remove(rule, 'host_rule');
        await remove(short, db === 'postgres' ? `${TABLE}_lost_reason_check` : 'lost_reason_short');
      }
    });
  });
});
