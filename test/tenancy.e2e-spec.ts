import { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { assignUntenantedLostReasons, LostReason, LostReasonModule, LostReasonObject, LostReasonService } from '../lib';
import { describeEach, testedDatabases } from './support/databases';
import { createHostApp, RESOURCE } from './support/host-app';

const ACME = { Authorization: 'Bearer sk_test_acme' };
const GLOBEX = { Authorization: 'Bearer sk_test_globex' };
const NEVER = 'opportunity-lost-reason_' + 'e'.repeat(32);

/** An error body without its request id, which differs on every request. */
const withoutRequestId = (body: { error: Record<string, unknown> }) => {
  const { request_id: _ignored, ...error } = body.error;
  return { error };
};

describeEach(testedDatabases())('Tenancy', (db) => {
  describe('tenant taken from the API key', () => {
    let app: INestApplication;
    let acme: LostReasonObject[];
    const api = () => request(app.getHttpServer());

    beforeAll(async () => {
      app = await createHostApp({
        db,
        imports: [LostReasonModule.forRoot({ apiKeys: { sk_test_acme: 'acme', sk_test_globex: 'globex' } })],
      });
      acme = [];
      for (const reason of ['a1', 'a2', 'a3'])
        acme.push((await api().post(RESOURCE).set(ACME).send({ lost_reason: reason }).expect(201)).body);
      for (const reason of ['g1', 'g2']) await api().post(RESOURCE).set(GLOBEX).send({ lost_reason: reason }).expect(201);
    });
    afterAll(() => app.close());

    it("lists only the tenant's own objects, with its own total and has_more", async () => {
      const globex = (await api().get(RESOURCE).set(GLOBEX).expect(200)).body;
      expect(globex.total).toBe(2);
      expect(globex.data.map((o: LostReasonObject) => o.lost_reason)).toEqual(['g2', 'g1']);
      expect((await api().get(`${RESOURCE}?limit=2`).set(GLOBEX).expect(200)).body.has_more).toBe(false);
      expect((await api().get(`${RESOURCE}?offset=2`).set(GLOBEX).expect(200)).body).toEqual({ data: [], has_more: false, total: 2 });
      const acmeList = (await api().get(RESOURCE).set(ACME).expect(200)).body;
      expect(acmeList.data).toEqual([...acme].reverse());
      expect(acmeList.total).toBe(3);
    });

    it("answers another tenant's id exactly as an id that never existed, on every endpoint, and changes nothing", async () => {
      for (const { id } of acme) {
        for (const [send, sendNever] of [
          [() => api().get(`${RESOURCE}/${id}`), () => api().get(`${RESOURCE}/${NEVER}`)],
          [
            () => api().patch(`${RESOURCE}/${id}`).send({ lost_reason: 'hijacked' }),
            () => api().patch(`${RESOURCE}/${NEVER}`).send({ lost_reason: 'hijacked' }),
          ],
          [
            () => api().patch(`${RESOURCE}/${id}`).send({ lost_reason: null }),
            () => api().patch(`${RESOURCE}/${NEVER}`).send({ lost_reason: null }),
          ],
          [() => api().delete(`${RESOURCE}/${id}`), () => api().delete(`${RESOURCE}/${NEVER}`)],
        ] as const) {
          const attack = await send().set(GLOBEX);
          const never = await sendNever().set(GLOBEX);
          expect(attack.status).toBe(404);
          expect(never.status).toBe(404);
          // Identical but for the id echoed in the message.
          const neverBody = JSON.parse(JSON.stringify(withoutRequestId(never.body)).replaceAll(NEVER, id));
          expect(withoutRequestId(attack.body)).toEqual(neverBody);
          expect(attack.headers['content-type']).toBe(never.headers['content-type']);
        }
        for (const cursor of ['starting_after', 'ending_before']) {
          const attack = await api().get(`${RESOURCE}?${cursor}=${id}`).set(GLOBEX).expect(400);
          expect(attack.body.error).toMatchObject({ param: cursor, code: 'resource_missing' });
        }
      }
      for (const object of acme) await api().get(`${RESOURCE}/${object.id}`).set(ACME).expect(200, object);
      expect((await api().get(RESOURCE).set(ACME).expect(200)).body.total).toBe(3);
    });

    it("walks a tenant's cursor pages without ever showing another tenant's objects", async () => {
      const first = (await api().get(`${RESOURCE}?limit=1`).set(ACME).expect(200)).body;
      const next = (await api().get(`${RESOURCE}?limit=5&starting_after=${first.data[0].id}`).set(ACME).expect(200)).body;
      expect(next.data.map((o: LostReasonObject) => o.lost_reason)).toEqual(['a2', 'a1']);
      expect(next).toMatchObject({ has_more: false, total: 3 });
    });

    it('keeps the service explicit: forTenant scopes it, and a call without a tenant is a programming error', async () => {
      const service = app.get(LostReasonService);
      await expect(service.list()).rejects.toThrow(/forTenant/);
      await expect(service.create({})).rejects.toThrow(/forTenant/);
      expect(() => service.forTenant('')).toThrow(/tenant/);
      expect((await service.forTenant('globex').list()).total).toBe(2);
      await expect(service.forTenant('globex').retrieve(acme[0].id)).rejects.toThrow(/No such/);
      expect((await service.forTenant('initech').list()).total).toBe(0);
    });
  });

  it('keeps tenants apart that differ only in case or trailing spaces, and apart from untenanted objects', async () => {
    const keys = { sk_test_lower: 'acme', sk_test_upper: 'ACME', sk_test_padded: 'acme ', sk_test_space: ' ' };
    const app = await createHostApp({ db, imports: [LostReasonModule.forRoot({ apiKeys: keys })] });
    try {
      const api = () => request(app.getHttpServer());
      // An object stored while tenancy was off.
      await app
        .get(DataSource)
        .getRepository(LostReason)
        .insert({
          id: 'opportunity-lost-reason_' + 'b'.repeat(32),
          tenant_id: '',
          created_at: '2026-01-01T00:00:00.000Z',
          updated_at: '2026-01-01T00:00:00.000Z',
          lost_reason: 'legacy',
        });
      const { body } = await api().post(RESOURCE).set('Authorization', 'Bearer sk_test_lower').send({ lost_reason: 'lower' }).expect(201);
      for (const other of ['sk_test_upper', 'sk_test_padded', 'sk_test_space']) {
        const as = { Authorization: `Bearer ${other}` };
        expect((await api().get(RESOURCE).set(as).expect(200)).body.total).toBe(0);
        await api().get(`${RESOURCE}/${body.id}`).set(as).expect(404);
        await api().delete(`${RESOURCE}/${body.id}`).set(as).expect(404);
      }
      expect((await api().get(RESOURCE).set('Authorization', 'Bearer sk_test_lower').expect(200)).body.total).toBe(1);
    } finally {
      await app.close();
    }
  });

  it("answers another tenant's id at once while its owner holds the row in a transaction", async () => {
    const app = await createHostApp({
      db,
      imports: [LostReasonModule.forRoot({ apiKeys: { sk_test_acme: 'acme', sk_test_globex: 'globex' }, requestTimeoutMs: 3000 })],
    });
    const service = app.get(LostReasonService);
    const dataSource = app.get(DataSource);
    try {
      const owned = await service.forTenant('acme').create({ lost_reason: 'locked' });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      // acme updates its object inside a transaction it keeps open: the row stays locked.
      const holder = dataSource.transaction(async (manager) => {
        await service.forTenant('acme').withManager(manager).update(owned.id, { lost_reason: 'held' });
        locked();
        await released;
      });
      await isLocked;
      try {
        for (const send of [
          () => request(app.getHttpServer()).patch(`${RESOURCE}/${owned.id}`).send({ lost_reason: 'x' }),
          () => request(app.getHttpServer()).delete(`${RESOURCE}/${owned.id}`),
          () => request(app.getHttpServer()).get(`${RESOURCE}/${owned.id}`),
        ]) {
          // acme's transaction holds the row until after the loop: a request waiting for its lock
          // could end only at the module's deadline (10 s), past this request's own timeout.
          const { status } = await send().set(GLOBEX).timeout(5000);
          expect(status).toBe(404);
        }
      } finally {
        release();
        await holder;
      }
    } finally {
      await app.close();
    }
  });

  it("takes the tenant from the host's function of the request, and refuses a request it maps to none", async () => {
    const app = await createHostApp({
      db,
      imports: [LostReasonModule.forRoot({ apiKeys: ['sk_test_shared'], tenant: async (req) => req.headers['x-tenant'] })],
    });
    try {
      const api = () => request(app.getHttpServer());
      const key = { Authorization: 'Bearer sk_test_shared' };
      const { body } = await api().post(RESOURCE).set(key).set('x-tenant', 'one').send({ lost_reason: 'mine' }).expect(201);
      await api().get(`${RESOURCE}/${body.id}`).set(key).set('x-tenant', 'one').expect(200, body);
      await api().get(`${RESOURCE}/${body.id}`).set(key).set('x-tenant', 'two').expect(404);
      expect((await api().get(RESOURCE).set(key).set('x-tenant', 'two').expect(200)).body.total).toBe(0);
      const refused = await api().get(RESOURCE).set(key).expect(401);
      expect(refused.body.error.type).toBe('authentication_error');
      await api().get(RESOURCE).set(key).set('x-tenant', 'x'.repeat(65)).expect(401);
    } finally {
      await app.close();
    }
  });

  it('moves a single-tenant table to tenancy with assignUntenantedLostReasons', async () => {
    // On SQLite, a file: the second app must find what the first one stored.
    const file = join(mkdtempSync(join(tmpdir(), 'lost-reason-')), 'tenancy.sqlite');
    const database = db === 'sqlite' ? { database: file } : {};
    const single = await createHostApp({ db, imports: [LostReasonModule.forRoot({ apiKeys: ['sk_test_solo'] })], database });
    let before: LostReasonObject;
    try {
      before = (
        await request(single.getHttpServer())
          .post(RESOURCE)
          .set('Authorization', 'Bearer sk_test_solo')
          .send({ lost_reason: 'legacy' })
          .expect(201)
      ).body;
      const queryRunner = single.get(DataSource).createQueryRunner();
      try {
        await assignUntenantedLostReasons(queryRunner, 'acme');
      } finally {
        await queryRunner.release();
      }
    } finally {
      await single.close();
    }
    // A new app with tenancy on, on the same database: the legacy object now belongs to acme.
    const tenanted = await createHostApp({
      db,
      imports: [LostReasonModule.forRoot({ apiKeys: { sk_test_acme: 'acme', sk_test_globex: 'globex' } })],
      keepRows: true,
      database,
    });
    try {
      const api = () => request(tenanted.getHttpServer());
      await api().get(`${RESOURCE}/${before!.id}`).set(ACME).expect(200, before!);
      await api().get(`${RESOURCE}/${before!.id}`).set(GLOBEX).expect(404);
      expect(await tenanted.get(DataSource).getRepository(LostReason).countBy({ tenant_id: '' })).toBe(0);
    } finally {
      await tenanted.close();
      rmSync(dirname(file), { recursive: true, force: true });
    }
  });
});
