import request from 'supertest';
import { DataSource } from 'typeorm';
import { LostReasonModule } from '../lib';
import { DATABASES, testedDatabases } from './support/databases';
import { API_KEY, auth, RESOURCE } from './support/host-app';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LostReason } from '../lib';

/**
 * A MySQL/MariaDB database in latin1 cannot store emoji or CJK: the write must be refused as
 * the client's 400, not fail as a 500.
 */
const onMariadb = testedDatabases().includes('mariadb') ? describe : describe.skip;

onMariadb('LostReasonModule on a latin1 MariaDB database', () => {
  const database = 'lost_reason_latin1';
  const serverUrl = new URL((DATABASES.mariadb as { url: string }).url);

  async function admin(sql: string) {
    const dataSource = await new DataSource({ type: 'mariadb', url: serverUrl.toString() }).initialize();
    try {
      await dataSource.query(sql);
    } finally {
      await dataSource.destroy();
    }
  }

  beforeAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${database}`);
    await admin(`CREATE DATABASE ${database} CHARACTER SET latin1 COLLATE latin1_swedish_ci`);
  });
  afterAll(() => admin(`DROP DATABASE IF EXISTS ${database}`));

  it('answers 400 naming lost_reason for characters latin1 cannot hold, on create and update, and stores nothing', async () => {
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'mariadb', url: url.toString(), entities: [LostReason], synchronize: true, retryAttempts: 0 }),
        LostReasonModule.forRoot({ apiKeys: [API_KEY] }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const server = app.getHttpServer();
      for (const text of ['Zu teuer 💸', '价格太高']) {
        const { body } = await request(server).post(RESOURCE).set(auth).send({ lost_reason: text }).expect(400);
        expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'lost_reason' });
      }
      const created = (await request(server).post(RESOURCE).set(auth).send({ lost_reason: 'Zu teuer, déjà vu' }).expect(201)).body;
      expect(created.lost_reason).toBe('Zu teuer, déjà vu');
      const { body } = await request(server).patch(`${RESOURCE}/${created.id}`).set(auth).send({ lost_reason: '💸' }).expect(400);
      expect(body.error.param).toBe('lost_reason');
      await request(server).get(`${RESOURCE}/${created.id}`).set(auth).expect(200, created);
      expect((await request(server).get(RESOURCE).set(auth).expect(200)).body.total).toBe(1);
    } finally {
      await app.close();
    }
  });
});
