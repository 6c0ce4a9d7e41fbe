import request from 'supertest';
import { DataSource } from 'typeorm';
import { DeletedLostReason, LostReason, LostReasonHooks, LostReasonModule, LostReasonObject, LostReasonService } from '../lib';
import { describeEach, testedDatabases } from './support/databases';
import { API_KEY, auth, createHostApp, RESOURCE } from './support/host-app';

/**
 * Hooks that have not finished hold no connection and delay no answer: each hook here returns a
 * promise the test settles only at the end. The host's pool has one connection, and the
 * module's deadline is short: a hook that held the connection or the answer would turn the
 * write or the next request into a 503.
 */

/** Hooks that record each call and stay pending until `finish()`. */
class PendingHooks implements LostReasonHooks {
  readonly calls: Array<[string, string]> = [];
  private settle!: () => void;
  private gate = this.reset();

  reset(): Promise<void> {
    this.calls.length = 0;
    return (this.gate = new Promise<void>((resolve) => (this.settle = resolve)));
  }

  finish(): void {
    this.settle();
  }

  created(object: LostReasonObject): Promise<void> {
    return this.record('created', object.id);
  }

  updated(object: LostReasonObject): Promise<void> {
    return this.record('updated', object.id);
  }

  deleted({ id }: DeletedLostReason): Promise<void> {
    return this.record('deleted', id);
  }

  private record(event: string, id: string): Promise<void> {
    this.calls.push([event, id]);
    return this.gate;
  }
}

class Rollback extends Error {}

describeEach(testedDatabases())('hooks still pending', (db) => {
  const hooks = new PendingHooks();
  let app: Awaited<ReturnType<typeof createHostApp>>;
  let dataSource: DataSource;
  let service: LostReasonService;
  const count = () => dataSource.getRepository(LostReason).count();

  beforeAll(async () => {
    app = await createHostApp({
      db,
      database: db === 'sqlite' ? {} : { poolSize: 1 },
      imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY], requestTimeoutMs: 2000, hooks })],
    });
    dataSource = app.get(DataSource);
    service = app.get(LostReasonService);
  });
  afterAll(() => app.close());
  beforeEach(async () => {
    hooks.reset();
    await dataSource.getRepository(LostReason).createQueryBuilder().delete().execute();
  });
  afterEach(() => hooks.finish());

  it.each([
    ['without', {}],
    ['with', { 'Idempotency-Key': 'pending-hook' }],
  ])('answer create (%s an Idempotency-Key), update and delete, and leave the pool free', async (_with, headers) => {
    const server = app.getHttpServer();
    const { body: created } = await request(server).post(RESOURCE).set(auth).set(headers).send({ lost_reason: 'a' }).expect(201);
    await request(server).get(RESOURCE).set(auth).expect(200);
    await request(server).patch(`${RESOURCE}/${created.id}`).set(auth).send({ lost_reason: 'b' }).expect(200);
    await request(server).get(RESOURCE).set(auth).expect(200);
    await request(server).delete(`${RESOURCE}/${created.id}`).set(auth).expect(200);
    expect((await request(server).get(RESOURCE).set(auth).expect(200)).body.total).toBe(0);
    expect(hooks.calls).toEqual([
      ['created', created.id],
      ['updated', created.id],
      ['deleted', created.id],
    ]);
  });

  it("inside the host's transaction: run once it commits, without delaying it, and never after a rollback", async () => {
    let created: LostReasonObject | undefined;
    await dataSource.transaction(async (manager) => {
      created = await service.withManager(manager).create({ lost_reason: 'in tx' });
      await service.withManager(manager).update(created.id, { lost_reason: 'in tx, updated' });
      expect(hooks.calls).toEqual([]);
    });
    expect(hooks.calls).toEqual([
      ['created', created!.id],
      ['updated', created!.id],
    ]);
    await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(200);

    hooks.calls.length = 0;
    await expect(
      dataSource.transaction(async (manager) => {
        await service.withManager(manager).create({ lost_reason: 'never' });
        throw new Rollback();
      }),
    ).rejects.toThrow(Rollback);
    expect(await count()).toBe(1);
    expect(hooks.calls).toEqual([]);
  });
});
