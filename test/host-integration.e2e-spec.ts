import { ConfigModule, ConfigService } from '@nestjs/config';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { LostReason, LostReasonModule, LostReasonObject, LostReasonService } from '../lib';
import { AuditLog, AuditModule } from './fixtures/audit.module';
import { describeEach, testedDatabases } from './support/databases';
import { API_KEY, auth, createHostApp, RESOURCE } from './support/host-app';

class Rollback extends Error {}

describeEach(testedDatabases())('LostReasonModule working with the host', (db) => {
  let app: Awaited<ReturnType<typeof createHostApp>>;
  let service: LostReasonService;
  let dataSource: DataSource;
  let audit: AuditLog;
  const count = () => dataSource.getRepository(LostReason).count();

  beforeAll(async () => {
    app = await createHostApp({
      db,
      imports: [
        AuditModule,
        LostReasonModule.forRootAsync({
          imports: [AuditModule],
          inject: [AuditLog],
          useFactory: (hooks: AuditLog) => ({ apiKeys: [API_KEY], hooks }),
        }),
      ],
    });
    service = app.get(LostReasonService);
    dataSource = app.get(DataSource);
    audit = app.get(AuditLog);
  });
  afterAll(() => app.close());
  beforeEach(async () => {
    await dataSource.getRepository(LostReason).createQueryBuilder().delete().execute();
    audit.events.length = 0;
  });

  describe("inside the host's transaction (withManager)", () => {
    it("a rollback of the host's transaction rolls back create, update and delete, and fires no hook", async () => {
      const kept = await service.create({ lost_reason: 'kept' });
      audit.events.length = 0;
      await expect(
        dataSource.transaction(async (manager) => {
          const inTransaction = service.withManager(manager);
          await inTransaction.create({ lost_reason: 'never' });
          await inTransaction.update(kept.id, { lost_reason: 'changed' });
          await inTransaction.delete((await inTransaction.create({ lost_reason: 'gone' })).id);
          expect(await manager.getRepository(LostReason).count()).toBe(2);
          throw new Rollback();
        }),
      ).rejects.toThrow(Rollback);
      expect(await count()).toBe(1);
      expect(await service.retrieve(kept.id)).toEqual(kept);
      expect(audit.events).toEqual([]);
    });

    it('a commit keeps the writes, and the hooks fire only after it', async () => {
      let created: LostReasonObject | undefined;
      await dataSource.transaction(async (manager) => {
        created = await service.withManager(manager).create({ lost_reason: 'in tx' });
        await service.withManager(manager).update(created.id, { lost_reason: 'in tx, updated' });
        expect(audit.events).toEqual([]);
      });
      expect(audit.events).toEqual([
        ['created', created!.id],
        ['updated', created!.id],
      ]);
      expect((await service.retrieve(created!.id)).lost_reason).toBe('in tx, updated');
    });
  });

  it('drops the hooks of writes in a rolled-back savepoint, and runs the rest after the outer commit', async () => {
    let kept: LostReasonObject | undefined;
    let dropped: LostReasonObject | undefined;
    await dataSource.transaction(async (outer) => {
      kept = await service.withManager(outer).create({ lost_reason: 'outer' });
      await outer
        .transaction(async (inner) => {
          dropped = await service.withManager(inner).create({ lost_reason: 'inner' });
          throw new Rollback();
        })
        .catch((error) => expect(error).toBeInstanceOf(Rollback));
    });
    expect(await count()).toBe(1);
    expect(audit.events).toEqual([['created', kept!.id]]);
    expect(audit.events.flat()).not.toContain(dropped!.id);
  });

  describe('hooks', () => {
    it('fire after each write through HTTP', async () => {
      const server = app.getHttpServer();
      const { body } = await request(server).post(RESOURCE).set(auth).send({ lost_reason: 'a' }).expect(201);
      await request(server).patch(`${RESOURCE}/${body.id}`).set(auth).send({ lost_reason: 'b' }).expect(200);
      await request(server).delete(`${RESOURCE}/${body.id}`).set(auth).expect(200);
      await request(server).delete(`${RESOURCE}/${body.id}`).set(auth).expect(404);
      expect(audit.events).toEqual([
        ['created', body.id],
        ['updated', body.id],
        ['deleted', body.id],
      ]);
    });

    it('a failing hook is logged, and the committed write still answers success', async () => {
      audit.failNext = true;
      const { body } = await request(app.getHttpServer()).post(RESOURCE).set(auth).send({ lost_reason: 'a' }).expect(201);
      await request(app.getHttpServer()).get(`${RESOURCE}/${body.id}`).set(auth).expect(200, body);
    });
  });
});

describe('LostReasonModule without routes (sqlite)', () => {
  it('gives the host the service only, with no authentication options needed', async () => {
    const app = await createHostApp({ db: 'sqlite', imports: [LostReasonModule.forRoot({ mountRoutes: false })] });
    try {
      const created = await app.get(LostReasonService).create({ lost_reason: 'service only' });
      expect(created.lost_reason).toBe('service only');
      await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(404);
      await request(app.getHttpServer()).get(`${RESOURCE}/${created.id}`).set(auth).expect(404);
    } finally {
      await app.close();
    }
  });
});

describe('LostReasonModule configured from @nestjs/config (sqlite)', () => {
  it('reads its keys through ConfigService in forRootAsync', async () => {
    const app = await createHostApp({
      db: 'sqlite',
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ CRM_API_KEYS: 'sk_test_cfg_1,sk_test_cfg_2' })] }),
        LostReasonModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ apiKeys: config.getOrThrow<string>('CRM_API_KEYS').split(',') }),
        }),
      ],
    });
    try {
      await request(app.getHttpServer()).get(RESOURCE).set('Authorization', 'Bearer sk_test_cfg_2').expect(200);
      await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(401);
    } finally {
      await app.close();
    }
  });
});

describe('LostReasonModule under a short request deadline (sqlite)', () => {
  it("answers 503 within the deadline when the host's key verifier never answers, on a route and on a bad body", async () => {
    const app = await createHostApp({
      db: 'sqlite',
      imports: [LostReasonModule.forRoot({ verifyApiKey: () => new Promise<boolean>(() => undefined), requestTimeoutMs: 200 })],
    });
    try {
      for (const send of [
        () => request(app.getHttpServer()).get(RESOURCE),
        () => request(app.getHttpServer()).post(RESOURCE).set('Content-Type', 'application/json').send('{'),
      ]) {
        // The verifier never answers: a 503 can come only from the module's deadline.
        const { status, body } = await send().set('Authorization', 'Bearer sk_test_pending').timeout(3000);
        expect(status).toBe(503);
        expect(body.error.type).toBe('api_error');
      }
    } finally {
      await app.close();
    }
  });
});
