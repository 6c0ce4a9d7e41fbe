import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { StatementLog } from './support/statement-log';
import { LostReasonModule } from '../lib';
import { describeEach, testedDatabases } from './support/databases';
import { API_KEY, auth, hostDatabase, RESOURCE } from './support/host-app';

const TRANSACTION_CONTROL = /^(BEGIN|START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b/i;

/**
 * The SQL each operation costs, counted through a TypeORM logger, so that a regression (an
 * extra SELECT, a `save()` round trip) fails here.
 */
describeEach(testedDatabases())('SQL statements per operation', (db) => {
  const log = new StatementLog();
  let app: INestApplication;

  /** Statements of one HTTP request: [all, without transaction control]. */
  async function statementsOf(send: () => Promise<unknown>): Promise<{ all: string[]; data: string[] }> {
    log.statements = [];
    await send();
    return { all: [...log.statements], data: log.statements.filter((s) => !TRANSACTION_CONTROL.test(s)) };
  }

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...hostDatabase(db), logging: true, logger: log, retryAttempts: 0 }),
        LostReasonModule.forRoot({ apiKeys: [API_KEY] }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.get(DataSource).query('DELETE FROM opportunity_lost_reason');
  });
  afterAll(() => app?.close());

  it('create 1, retrieve 1, update 1, delete 1, list 1 or 2 (MariaDB: update 2, delete 2; see below)', async () => {
    const server = app.getHttpServer();
    let id = '';
    const create = await statementsOf(async () => {
      id = (await request(server).post(RESOURCE).set(auth).send({ lost_reason: 'count' }).expect(201)).body.id;
    });
    expect(create.all).toHaveLength(1);
    await request(server).post(RESOURCE).set(auth).send({}).expect(201);

    expect((await statementsOf(() => request(server).get(`${RESOURCE}/${id}`).set(auth).expect(200))).all).toHaveLength(1);

    await new Promise((resolve) => setTimeout(resolve, 3)); // past the create's millisecond
    const update = await statementsOf(() => request(server).patch(`${RESOURCE}/${id}`).set(auth).send({ lost_reason: 'x' }).expect(200));
    if (db === 'mariadb') {
      // A plain read finds the row without locking the id index (another tenant's id must not
      // wait on the owner's lock), then an UPDATE by primary key if updated_at is unchanged.
      // No transaction: nothing is locked between the two.
      expect(update.all).toHaveLength(2);
      expect(update.all[0]).toMatch(/^SELECT/i);
      expect(update.all[1]).toMatch(/^UPDATE .* WHERE .*seq.* = \? AND .*updated_at.* = \?$/i);
    } else {
      expect(update.all).toHaveLength(1);
    }

    expect((await statementsOf(() => request(server).get(`${RESOURCE}?limit=1`).set(auth).expect(200))).all).toHaveLength(1);
    expect((await statementsOf(() => request(server).get(`${RESOURCE}?offset=50`).set(auth).expect(200))).all).toHaveLength(2);
    expect((await statementsOf(() => request(server).get(`${RESOURCE}?starting_after=${id}`).set(auth).expect(200))).all).toHaveLength(2);
    expect((await statementsOf(() => request(server).delete(`${RESOURCE}/${id}`).set(auth).expect(200))).all).toHaveLength(
      db === 'mariadb' ? 2 : 1,
    );
    expect((await statementsOf(() => request(server).get(`${RESOURCE}/nope`).set(auth).expect(404))).all).toHaveLength(0);
  });
});
