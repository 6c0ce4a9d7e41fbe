import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  LOST_REASON_DEFAULTS,
  LostReason,
  LostReasonIdempotencyKey,
  LostReasonModule,
  LostReasonObject,
  LostReasonService,
  REQUEST_ID_PATTERN,
} from '../lib';
import { IDEMPOTENCY_KEY_TTL_MS } from '../lib/idempotency/idempotency.constants';
import { LostReasonIdempotency } from '../lib/idempotency/idempotency.service';
import { testedAdapters } from './support/adapters';
import { describeEach, testedDatabases } from './support/databases';
import { auth, createHostApp, RESOURCE } from './support/host-app';

const ACME = { Authorization: 'Bearer sk_test_acme' };
const GLOBEX = { Authorization: 'Bearer sk_test_globex' };
/** The longest tenant id: 64 bytes in UTF-8, 128 characters stored. */
const LONGEST_TENANT = 'ü'.repeat(32);
const HOUR = 60 * 60 * 1000;

const cases = testedDatabases().flatMap((db) => testedAdapters().map((adapter) => [db, adapter] as const));

describeEach(testedDatabases())('Idempotency-Key without tenancy', (db) => {
  it('replays, refuses other parameters and creates one object for parallel requests', async () => {
    const app = await createHostApp({ db });
    try {
      const api = () => request(app.getHttpServer());
      const post = (body: object) => api().post(RESOURCE).set(auth).set('Idempotency-Key', 'order-1').send(body);
      const replies = await Promise.all(Array.from({ length: 5 }, () => post({ lost_reason: 'solo' })));
      const created = replies.filter((reply) => reply.status === 201 && reply.headers['idempotent-replayed'] === undefined);
      expect(created).toHaveLength(1);
      expect(replies.every((reply) => reply.status === 409 || reply.body.id === created[0].body.id)).toBe(true);
      const retry = await post({ lost_reason: 'solo' }).expect(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(created[0].body);
      await post({ lost_reason: 'other' }).expect(400);
      expect(await app.get(DataSource).getRepository(LostReason).count()).toBe(1);
      expect(await app.get(DataSource).getRepository(LostReasonIdempotencyKey).findOneBy({ idempotency_key: 'order-1' })).toMatchObject({
        tenant_id: '',
        status: 201,
      });
    } finally {
      await app.close();
    }
  });
});

describeEach(cases)('Idempotency-Key on POST', ([db, adapter]) => {
  let app: INestApplication;
  let dataSource: DataSource;
  let n = 0;
  /** A key never used before in this run. */
  const freshKey = () => `key-${db}-${adapter}-${Date.now()}-${++n}`;
  const api = () => request(app.getHttpServer());
  const post = (key: string | undefined, body?: object, headers: Record<string, string> = auth) => {
    const call = api().post(RESOURCE).set(headers);
    if (key !== undefined) call.set('Idempotency-Key', key);
    return body === undefined ? call : call.send(body);
  };
  const objects = () => dataSource.getRepository(LostReason).count();
  const keys = () => dataSource.getRepository(LostReasonIdempotencyKey);
  /** Moves a stored key's claim `ms` into the past. */
  const age = (key: string, ms: number) => keys().update({ idempotency_key: key }, { created_at: new Date(Date.now() - ms).toISOString() });

  beforeAll(async () => {
    app = await createHostApp({
      db,
      imports: [
        LostReasonModule.forRoot({
          apiKeys: {
            sk_test_e2e_4eC39HqLyjWDarjtT1zdp7dc: 'main',
            sk_test_acme: 'acme',
            sk_test_globex: 'globex',
            sk_test_longest: LONGEST_TENANT,
          },
        }),
      ],
      adapter,
    });
    dataSource = app.get(DataSource);
  });
  afterAll(() => app.close());

  it('replays the first answer for a retry with the same key and body: same status and body, one object, a new request id', async () => {
    const before = await objects();
    const key = freshKey();
    const first = await post(key, { lost_reason: 'Price too high' }).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const retry = await post(key, { lost_reason: 'Price too high' }).expect(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(retry.headers['content-type']).toBe(first.headers['content-type']);
    expect(retry.headers['request-id']).toMatch(REQUEST_ID_PATTERN);
    expect(retry.headers['request-id']).not.toBe(first.headers['request-id']);
    expect(await objects()).toBe(before + 1);
    await api().get(`${RESOURCE}/${first.body.id}`).set(auth).expect(200, first.body);
  });

  it('compares what the parameters mean: no body, {} and an explicit null create the same object', async () => {
    const key = freshKey();
    const first = await post(key).expect(201);
    expect(first.body.lost_reason).toBeNull();
    for (const same of [{}, { lost_reason: null }]) {
      const retry = await post(key, same).expect(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
    }
    const spelled = freshKey();
    const created = await post(spelled, { lost_reason: null }).expect(201);
    expect((await post(spelled).expect(201)).body).toEqual(created.body);
  });

  it('refuses the same key with other parameters (400 idempotency_error) and creates nothing', async () => {
    const key = freshKey();
    const first = await post(key, { lost_reason: 'a' }).expect(201);
    const before = await objects();
    for (const other of [{ lost_reason: 'b' }, { lost_reason: null }, {}]) {
      const refused = await post(key, other).expect(400);
      expect(refused.body.error).toMatchObject({
        type: 'idempotency_error',
        param: 'Idempotency-Key',
        message: expect.stringMatching(/same parameters/),
      });
      expect(refused.headers['request-id']).toBe(refused.body.error.request_id);
    }
    expect(await objects()).toBe(before);
    // The key still replays its own request.
    expect((await post(key, { lost_reason: 'a' }).expect(201)).body).toEqual(first.body);
  });

  it('refuses two Idempotency-Key headers (400 naming the header) and creates nothing, even when they agree', async () => {
    const key = freshKey();
    const before = await objects();
    for (const keys of [
      [key, key],
      [key, freshKey()],
    ]) {
      // Sent as two header lines (superagent's array); Node joins them into one value ("k, k").
      const refused = await api()
        .post(RESOURCE)
        .set(auth)
        .set('Idempotency-Key', keys as unknown as string)
        .send({ lost_reason: 'twice' })
        .expect(400);
      expect(refused.body.error).toMatchObject({
        type: 'invalid_request_error',
        param: 'Idempotency-Key',
        message: expect.stringMatching(/more than once/),
      });
    }
    expect(await objects()).toBe(before);
    await post(key, { lost_reason: 'twice' }).expect(201);
    expect(await objects()).toBe(before + 1);
  });

  it('stores nothing for a request refused for its parameters: a corrected retry with the same key creates', async () => {
    const key = freshKey();
    const before = await objects();
    const invalid = await post(key, { lost_reason: 5 }).expect(400);
    expect(invalid.body.error).toMatchObject({ type: 'invalid_request_error', param: 'lost_reason' });
    await post(key, { lost_reason: 'x', id: 'mine' }).expect(400);
    expect(await keys().countBy({ idempotency_key: key })).toBe(0);
    const corrected = await post(key, { lost_reason: 'corrected' }).expect(201);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
    expect(corrected.body.lost_reason).toBe('corrected');
    expect(await objects()).toBe(before + 1);
    // A body in another media type is still a 415, before the key is looked at.
    await api().post(RESOURCE).set(auth).set('Idempotency-Key', key).set('Content-Type', 'text/plain').send('hello').expect(415);
  });

  it('creates exactly one object for 10 parallel requests with one key; the others replay it or answer 409', async () => {
    const before = await objects();
    const key = freshKey();
    const replies = await Promise.all(Array.from({ length: 10 }, () => post(key, { lost_reason: 'parallel' })));
    const created = replies.filter((reply) => reply.status === 201 && reply.headers['idempotent-replayed'] === undefined);
    expect(created).toHaveLength(1);
    for (const reply of replies) {
      if (reply.status === 201) expect(reply.body).toEqual(created[0].body);
      else {
        expect({ status: reply.status, error: reply.body.error }).toMatchObject({
          status: 409,
          error: { type: 'idempotency_error', code: 'idempotency_key_in_use', param: 'Idempotency-Key' },
        });
      }
    }
    expect(await objects()).toBe(before + 1);
    const retry = await post(key, { lost_reason: 'parallel' }).expect(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(created[0].body);
  });

  it('answers 409 while the first request with the key runs, and takes over a claim abandoned for longer than the lock timeout', async () => {
    const key = freshKey();
    const first = await post(key, { lost_reason: 'first' }).expect(201);
    // As if the first request were still running.
    await keys().update({ idempotency_key: key }, { status: null, response: null });
    const before = await objects();
    const busy = await post(key, { lost_reason: 'first' }).expect(409);
    expect(busy.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_in_use' });
    // Other parameters are still the client's mistake.
    expect((await post(key, { lost_reason: 'other' }).expect(400)).body.error.type).toBe('idempotency_error');
    expect(await objects()).toBe(before);
    // A claim still in progress after 2 minutes: its request died with its process.
    await age(key, 2 * 60 * 1000);
    const taken = await post(key, { lost_reason: 'first' }).expect(201);
    expect(taken.headers['idempotent-replayed']).toBeUndefined();
    expect(taken.body.id).not.toBe(first.body.id);
    expect((await post(key, { lost_reason: 'first' }).expect(201)).body).toEqual(taken.body);
  });

  it('takes over a claim in progress for longer than twice requestTimeoutMs: its request is past its deadline, on whichever instance it ran', async () => {
    const key = freshKey();
    await post(key, { lost_reason: 'abandoned' }).expect(201);
    await keys().update({ idempotency_key: key }, { status: null, response: null });
    await age(key, 2 * LOST_REASON_DEFAULTS.requestTimeoutMs - 2000);
    await post(key, { lost_reason: 'abandoned' }).expect(409);
    await age(key, 2 * LOST_REASON_DEFAULTS.requestTimeoutMs + 1000);
    const taken = await post(key, { lost_reason: 'abandoned' }).expect(201);
    expect(taken.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses a key longer than 255 characters or not printable ASCII (400 naming the header)', async () => {
    const before = await objects();
    for (const key of ['k'.repeat(256), 'clé', '']) {
      const refused = await post(key, { lost_reason: 'x' }).expect(400);
      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'Idempotency-Key' });
    }
    expect(await objects()).toBe(before);
    const longest = 'k'.repeat(240) + freshKey().slice(-15);
    expect(longest).toHaveLength(255);
    await post(longest, { lost_reason: 'x' }).expect(201);
    expect((await post(longest, { lost_reason: 'x' }).expect(201)).headers['idempotent-replayed']).toBe('true');
  });

  it('compares keys exactly, case included, on every database', async () => {
    const key = `${freshKey()}-Case`;
    const upper = await post(key, { lost_reason: 'upper' }).expect(201);
    const lower = await post(key.toLowerCase(), { lost_reason: 'lower' }).expect(201);
    expect(lower.headers['idempotent-replayed']).toBeUndefined();
    expect(lower.body.id).not.toBe(upper.body.id);
  });

  it('keeps keys per tenant: two tenants use the same key independently', async () => {
    const key = freshKey();
    const acme = await post(key, { lost_reason: 'acme' }, ACME).expect(201);
    const globex = await post(key, { lost_reason: 'globex' }, GLOBEX).expect(201);
    expect(globex.headers['idempotent-replayed']).toBeUndefined();
    expect(globex.body.id).not.toBe(acme.body.id);
    expect((await post(key, { lost_reason: 'acme' }, ACME).expect(201)).body).toEqual(acme.body);
    expect((await post(key, { lost_reason: 'globex' }, GLOBEX).expect(201)).body).toEqual(globex.body);
    // A replay never leaks another tenant's object.
    await api().get(`${RESOURCE}/${acme.body.id}`).set(GLOBEX).expect(404);
    // Stored as the objects store their tenant: the hex of its UTF-8 bytes.
    const hex = (tenant: string) => Buffer.from(tenant, 'utf8').toString('hex');
    expect(await keys().findBy({ idempotency_key: key })).toEqual(
      expect.arrayContaining([expect.objectContaining({ tenant_id: hex('acme') }), expect.objectContaining({ tenant_id: hex('globex') })]),
    );
  });

  it('stores the key of the longest tenant id', async () => {
    const key = freshKey();
    const longest = { Authorization: 'Bearer sk_test_longest' };
    const first = await post(key, { lost_reason: 'long' }, longest).expect(201);
    expect((await post(key, { lost_reason: 'long' }, longest).expect(201)).body).toEqual(first.body);
    expect(await keys().findOneBy({ idempotency_key: key })).toMatchObject({
      tenant_id: Buffer.from(LONGEST_TENANT, 'utf8').toString('hex'),
    });
  });

  it('treats a key older than 24 hours as never used, and prunes expired keys', async () => {
    const key = freshKey();
    const first = await post(key, { lost_reason: 'old' }).expect(201);
    await age(key, IDEMPOTENCY_KEY_TTL_MS + HOUR);
    // Expired: even other parameters are a new request.
    const again = await post(key, { lost_reason: 'new' }).expect(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.body.id).not.toBe(first.body.id);
    // Not yet expired (23 hours): still replayed.
    await age(key, IDEMPOTENCY_KEY_TTL_MS - HOUR);
    expect((await post(key, { lost_reason: 'new' }).expect(201)).body).toEqual(again.body);

    // Pruning: one DELETE of the expired rows only, started by a claim at most once a minute.
    const store = app.get(LostReasonIdempotency);
    const [expired, kept] = [freshKey(), freshKey()];
    await post(expired, {}).expect(201);
    await post(kept, {}).expect(201);
    await age(expired, IDEMPOTENCY_KEY_TTL_MS + HOUR);
    await age(kept, IDEMPOTENCY_KEY_TTL_MS - HOUR);
    const { pruner } = store as unknown as { pruner: { nextPruneAt: number; settled(): Promise<void> } };
    pruner.nextPruneAt = 0; // as if this process had not pruned for a minute
    await post(freshKey(), {}).expect(201);
    await pruner.settled();
    expect(await keys().countBy({ idempotency_key: expired })).toBe(0);
    expect(await keys().countBy({ idempotency_key: kept })).toBe(1);
    expect(pruner.nextPruneAt).toBeGreaterThan(Date.now());
    // And callable directly.
    await age(kept, IDEMPOTENCY_KEY_TTL_MS + HOUR);
    expect(await store.pruneExpired()).toBeGreaterThanOrEqual(1);
    expect(await keys().countBy({ idempotency_key: kept })).toBe(0);
  });

  it('gives the key back when the create fails, so a retry can proceed', async () => {
    const store = app.get(LostReasonIdempotency);
    const key = freshKey();
    await expect(store.run('main', key, {}, async () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    expect(await keys().countBy({ idempotency_key: key })).toBe(0);
    const retry = await post(key, {}).expect(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('never stores an answer for a request that lost its claim; on PostgreSQL and MariaDB its object is rolled back', async () => {
    const store = app.get(LostReasonIdempotency);
    const service = app.get(LostReasonService).forTenant('main');
    const key = freshKey();
    const before = await objects();
    let made: LostReasonObject | undefined;
    const run = store.run('main', key, { lost_reason: 'slow' }, async (manager) => {
      made = await (manager ? service.withManager(manager) : service).create({ lost_reason: 'slow' });
      // Meanwhile, another request took the key over (this one ran past the lock timeout).
      // (Its claim is a later one: another created_at, here 1 ms later.)
      const claim = await keys().findOneByOrFail({ idempotency_key: key });
      await keys().update(
        { idempotency_key: key },
        { created_at: new Date(Date.parse(claim.created_at) + 1).toISOString(), request_hash: 'taken over' },
      );
      return made;
    });
    if (db === 'sqlite') {
      // No transaction on SQLite: the object exists, and the other request keeps the key.
      expect(await run).toMatchObject({ status: 201, body: made, replayed: false });
      expect(await objects()).toBe(before + 1);
    } else {
      await expect(run).rejects.toMatchObject({ status: 409 });
      expect(await objects()).toBe(before);
      await api().get(`${RESOURCE}/${made!.id}`).set(auth).expect(404);
    }
    expect(await keys().findOneBy({ idempotency_key: key })).toMatchObject({ request_hash: 'taken over', status: null });
  });

  it('ignores the header on the other routes', async () => {
    const { body } = await post(undefined, { lost_reason: 'plain' }).expect(201);
    await api()
      .patch(`${RESOURCE}/${body.id}`)
      .set(auth)
      .set('Idempotency-Key', 'k'.repeat(300))
      .send({ lost_reason: 'patched' })
      .expect(200);
    await api().get(RESOURCE).set(auth).set('Idempotency-Key', 'k'.repeat(300)).expect(200);
  });
});
