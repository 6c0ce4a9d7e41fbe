import { ClassSerializerInterceptor, ValidationPipe, VersioningType } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  InvalidRequestException,
  LostReason,
  LostReasonModule,
  LostReasonModuleOptionsError,
  LostReasonNotFoundException,
  LostReasonService,
} from '../lib';
import { ConfigLikeModule } from './fixtures/config-like.module';
import { CrmOptionsFactory, CrmOptionsModule } from './fixtures/crm-options.module';
import { HostAudit } from './fixtures/host-audit.fixture';
import { HostFilter } from './fixtures/host-filter.fixture';
import { HostMarkingGuard } from './fixtures/host-marking-guard.fixture';
import { HostRoutesModule } from './fixtures/host-routes.module';
import { HostSessionGuard } from './fixtures/host-session-guard.fixture';
import { HostTaggingInterceptor } from './fixtures/host-tagging-interceptor.fixture';
import { testedAdapters } from './support/adapters';
import { describeEach, testedDatabases } from './support/databases';
import { API_KEY, auth, createHostApp, hostDatabase, RESOURCE } from './support/host-app';

describe.each(testedAdapters())(
  "LostReasonModule next to a host's own routes, global pipe, guard, interceptors and filter (sqlite, %s)",
  (adapter) => {
    let app: Awaited<ReturnType<typeof createHostApp>>;
    beforeAll(async () => {
      app = await createHostApp({
        db: 'sqlite',
        imports: [HostRoutesModule, LostReasonModule.forRoot({ apiKeys: [API_KEY] })],
        configure: (nest) => {
          nest.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
          nest.useGlobalFilters(new HostFilter(nest.getHttpAdapter()));
          nest.useGlobalGuards(new HostMarkingGuard());
          nest.useGlobalInterceptors(new HostTaggingInterceptor(), new ClassSerializerInterceptor(nest.get(Reflector)));
        },
        adapter,
      });
    });
    afterAll(() => app.close());
    const api = () => request(app.getHttpServer());

    it('leaves the host routes to the host: its pipe, its filter, its error shape', async () => {
      await api().get('/host/ping').expect(200, { pong: true });
      await api().post('/host/echo').send({ name: 'x' }).expect(201, { name: 'x' });
      await api().post('/host/echo').send({ name: 1 }).expect(400, { host_error: true, status: 400 });
      await api()
        .post('/host/echo')
        .set('Content-Type', 'application/json')
        .send('{"name":')
        .expect(400, { host_error: true, status: 400 });
      await api().get('/host/missing').expect(404, { host_error: true, status: 404 });
      await api().put('/host/ping').expect(404, { host_error: true, status: 404 });
      const lookalike = '/admin/api/crm/opportunity-lost-reason';
      await api().post(lookalike).set('Content-Type', 'application/json').send('{').expect(400, { host_error: true, status: 400 });
      await api().put(lookalike).expect(404, { host_error: true, status: 404 });
      await api().get(`${lookalike}/x`).expect(404, { host_error: true, status: 404 });
      const tagged = await api().get('/host/ping');
      expect(tagged.headers['x-host-interceptor']).toBe('ran');
    });

    it("keeps its own rules and error shape under the host's global pipe and filter", async () => {
      const created = await api().post(RESOURCE).set(auth).send({ lost_reason: 'ok' }).expect(201);
      expect(created.body.lost_reason).toBe('ok');
      const unknown = await api().post(RESOURCE).set(auth).send({ lost_reason: 'x', extra: 1 }).expect(400);
      expect(unknown.body.error).toMatchObject({ type: 'invalid_request_error', param: 'extra' });
      const malformed = await api().post(RESOURCE).set(auth).set('Content-Type', 'application/json').send('{').expect(400);
      expect(malformed.body.error.type).toBe('invalid_request_error');
      const unauthenticated = await api().get(RESOURCE).expect(401);
      expect(unauthenticated.body.error.type).toBe('authentication_error');
      const list = await api().get(`${RESOURCE}?limit=5`).set(auth).expect(200);
      expect(list.body).toEqual({ data: [created.body], has_more: false, total: 1 });
      expect(list.headers['x-host-interceptor']).toBe('ran');
      const empty = await api().post(RESOURCE).set(auth).set('Content-Type', 'application/json').expect(201);
      expect(empty.body.lost_reason).toBeNull();
      const missing = await api().put(RESOURCE).set(auth).expect(404);
      expect(missing.body.error.message).toMatch(/^Unrecognized request URL/);
    });
  },
);

describe('LostReasonModule inside a host app (sqlite)', () => {
  it("mounts under a custom path and the host's global prefix", async () => {
    const app = await createHostApp({
      db: 'sqlite',
      imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY], path: 'crm/lost-reasons' })],
      configure: (nest) => nest.setGlobalPrefix('v2'),
    });
    try {
      const { body } = await request(app.getHttpServer()).post('/v2/crm/lost-reasons').set(auth).send({}).expect(201);
      await request(app.getHttpServer()).get(`/v2/crm/lost-reasons/${body.id}`).set(auth).expect(200, body);
      const malformed = await request(app.getHttpServer())
        .post('/v2/crm/lost-reasons')
        .set(auth)
        .set('Content-Type', 'application/json')
        .send('[')
        .expect(400);
      expect(malformed.body.error.type).toBe('invalid_request_error');
      await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(404);
    } finally {
      await app.close();
    }
  });

  it.each(testedAdapters())("honours the host's URI versioning (%s)", async (adapter) => {
    const app = await createHostApp({
      db: 'sqlite',
      configure: (nest) => nest.setGlobalPrefix('api/internal').enableVersioning({ type: VersioningType.URI, defaultVersion: '1' }),
      adapter,
    });
    try {
      const path = `/api/internal/v1${RESOURCE}`;
      const { body } = await request(app.getHttpServer()).post(path).set(auth).send({ lost_reason: 'versioned' }).expect(201);
      await request(app.getHttpServer()).get(`${path}/${body.id}`).set(auth).expect(200, body);
      const malformed = await request(app.getHttpServer())
        .post(path)
        .set(auth)
        .set('Content-Type', 'application/json')
        .send('{')
        .expect(400);
      expect(malformed.body.error.type).toBe('invalid_request_error');
    } finally {
      await app.close();
    }
  });

  it('is configured asynchronously with imports, inject and useFactory', async () => {
    const app = await createHostApp({
      db: 'sqlite',
      imports: [
        LostReasonModule.forRootAsync({
          imports: [ConfigLikeModule],
          inject: ['CRM_KEYS'],
          useFactory: async (keys: string[]) => ({ apiKeys: keys }),
          path: 'async/lost-reasons',
        }),
      ],
    });
    try {
      await request(app.getHttpServer()).get('/async/lost-reasons').set('Authorization', 'Bearer sk_test_from_config').expect(200);
      await request(app.getHttpServer()).get('/async/lost-reasons').set(auth).expect(401);
    } finally {
      await app.close();
    }
  });

  it('is configured asynchronously with useClass and useExisting', async () => {
    for (const registration of [
      LostReasonModule.forRootAsync({ useClass: CrmOptionsFactory }),
      LostReasonModule.forRootAsync({ imports: [CrmOptionsModule], useExisting: CrmOptionsFactory }),
    ]) {
      const app = await createHostApp({ db: 'sqlite', imports: [registration] });
      try {
        await request(app.getHttpServer()).get(RESOURCE).set('Authorization', 'Bearer sk_test_from_class').expect(200);
        await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(401);
      } finally {
        await app.close();
      }
    }
  });

  it("checks keys with the host's async verifier", async () => {
    const seen: string[] = [];
    const verifyApiKey = async (key: string) => {
      seen.push(key);
      return key === 'sk_test_vault';
    };
    const app = await createHostApp({ db: 'sqlite', imports: [LostReasonModule.forRoot({ verifyApiKey })] });
    try {
      await request(app.getHttpServer()).get(RESOURCE).set('Authorization', 'Bearer sk_test_vault').expect(200);
      await request(app.getHttpServer()).get(RESOURCE).set('Authorization', 'Bearer sk_test_other').expect(401);
      expect(seen).toEqual(['sk_test_vault', 'sk_test_other']);
    } finally {
      await app.close();
    }
  });

  it("runs the host's own guards instead of API keys, errors still in the module's shape", async () => {
    const app = await createHostApp({ db: 'sqlite', imports: [LostReasonModule.forRoot({ guards: [HostSessionGuard] })] });
    try {
      await request(app.getHttpServer()).get(RESOURCE).set('x-session', 'valid').expect(200);
      const denied = await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(401);
      expect(denied.body.error.type).toBe('authentication_error');
    } finally {
      await app.close();
    }
  });

  it('serves without authentication only when the host opts out explicitly', async () => {
    const app = await createHostApp({ db: 'sqlite', imports: [LostReasonModule.forRoot({ allowUnauthenticated: true })] });
    try {
      await request(app.getHttpServer()).post(RESOURCE).send({ lost_reason: 'open' }).expect(201);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['no authentication at all', () => LostReasonModule.forRoot({}), /"apiKeys" is required.*allowUnauthenticated/],
    ['an empty key list', () => LostReasonModule.forRoot({ apiKeys: [] }), /"apiKeys" is required/],
    ['a blank key', () => LostReasonModule.forRoot({ apiKeys: [' '] }), /"apiKeys" must be/],
    ['keys and guards together', () => LostReasonModule.forRoot({ apiKeys: [API_KEY], guards: [HostSessionGuard] }), /"guards"/],
    ['a bad path', () => LostReasonModule.forRoot({ apiKeys: [API_KEY], path: 'has space' }), /"path"/],
  ])('fails at start-up with a message naming the option for %s', async (_case, register, message) => {
    const boot = async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [TypeOrmModule.forRoot({ ...hostDatabase('sqlite'), retryAttempts: 0 }), register()],
      }).compile();
      await moduleRef.close();
    };
    await expect(boot()).rejects.toThrow(LostReasonModuleOptionsError);
    await expect(boot()).rejects.toThrow(message);
  });

  it('gives host providers the service, with the same rules as the HTTP API', async () => {
    const app = await createHostApp({ db: 'sqlite' });
    try {
      const service = app.get(LostReasonService);
      const created = await service.create({ lost_reason: 'from the host' });
      await request(app.getHttpServer()).get(`${RESOURCE}/${created.id}`).set(auth).expect(200, created);
      const updated = await service.update(created.id, { lost_reason: null });
      expect(updated.lost_reason).toBeNull();
      expect((await service.list({ limit: 1 })).total).toBe(1);
      await expect(service.create({ lost_reason: 'x'.repeat(501) })).rejects.toThrow(InvalidRequestException);
      await expect(service.create({ nope: 1 } as never)).rejects.toThrow(InvalidRequestException);
      await expect(service.list({ limit: 0 })).rejects.toThrow(InvalidRequestException);
      await expect(service.retrieve('nope')).rejects.toThrow(LostReasonNotFoundException);
      expect(await service.delete(created.id)).toEqual({ id: created.id, deleted: true });
      await expect(service.delete(created.id)).rejects.toThrow(LostReasonNotFoundException);
    } finally {
      await app.close();
    }
  });
});

describeEach(testedDatabases())('LostReasonModule on a named data source', (db) => {
  it("stores its objects on the named data source, not on the host's default one", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', entities: [HostAudit], synchronize: true }),
        TypeOrmModule.forRoot({ ...hostDatabase(db), name: 'crm', retryAttempts: 0 }),
        LostReasonModule.forRoot({ apiKeys: [API_KEY], dataSource: 'crm' }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const crm = app.get<DataSource>(getDataSourceToken('crm'));
      await crm.getRepository(LostReason).createQueryBuilder().delete().execute();
      const { body } = await request(app.getHttpServer()).post(RESOURCE).set(auth).send({ lost_reason: 'named' }).expect(201);
      expect(await crm.getRepository(LostReason).findOneBy({ id: body.id })).toMatchObject({ lost_reason: 'named' });
      expect(app.get(DataSource).hasMetadata(LostReason)).toBe(false);
    } finally {
      await app.close();
    }
  });
});
