import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { getLostReasonServiceToken, LostReason, LostReasonService } from '../lib';
import { ARCHIVE_PATH, ReasonsOnBothDatabases, TwoDataSourcesModule } from './fixtures/two-data-sources.module';
import { RESOURCE } from './support/host-app';

/** One app, two databases, the module registered on each: each registration is its own, by token and by path. */
describe('two registrations on two data sources', () => {
  let app: INestApplication;
  const auth = { Authorization: 'Bearer sk_test_two_databases' };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [TwoDataSourcesModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  const labelsIn = async (dataSource: string | undefined) =>
    (await app.get<DataSource>(getDataSourceToken(dataSource)).getRepository(LostReason).find()).map((row) => row.lost_reason);

  it('gives each registration its own service, injected by data source', async () => {
    const { main, archive } = app.get(ReasonsOnBothDatabases);
    expect(main).toBeInstanceOf(LostReasonService);
    expect(archive).toBeInstanceOf(LostReasonService);
    expect(archive).not.toBe(main);
    expect(app.get(getLostReasonServiceToken('archive'))).toBe(archive);
    expect(getLostReasonServiceToken()).toBe(LostReasonService);

    await main.create({ lost_reason: 'kept in main' });
    await archive.create({ lost_reason: 'kept in archive' });
    expect(await labelsIn(undefined)).toEqual(['kept in main']);
    expect(await labelsIn('archive')).toEqual(['kept in archive']);
  });

  it('serves each registration on its own path, from its own database', async () => {
    const server = app.getHttpServer();
    await request(server).post(`/${ARCHIVE_PATH}`).set(auth).send({ lost_reason: 'archived over HTTP' }).expect(201);
    const archived = await request(server).get(`/${ARCHIVE_PATH}`).set(auth).expect(200);
    const main = await request(server).get(RESOURCE).set(auth).expect(200);
    expect(archived.body.data.map((object: { lost_reason: string }) => object.lost_reason)).toContain('archived over HTTP');
    expect(main.body.data.map((object: { lost_reason: string }) => object.lost_reason)).not.toContain('archived over HTTP');
  });
});
