import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { LOST_REASON_MAX_LENGTH } from '../lib';
import { testedAdapters } from './support/adapters';
import { describeEach, testedDatabases } from './support/databases';
import { apiErrorBody, expectContractObject, ISO_UTC_MS, MISSING_ID, OBJECT_ID, RESOURCE_MISSING } from './support/contract';
import { API_KEY, auth, createHostApp, RESOURCE, restoreSchema } from './support/host-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const matrix = testedDatabases().flatMap((db) => testedAdapters().map((adapter) => [db, adapter] as const));

describeEach(matrix)('Opportunity Lost Reason API', ([db, adapter]) => {
  let app: INestApplication;
  const api = () => request(app.getHttpServer());
  const create = (body?: object) => api().post(RESOURCE).set(auth).send(body);
  const total = async () => (await api().get(RESOURCE).set(auth).expect(200)).body.total as number;
  const createMany = async (count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await create({ lost_reason: `reason ${i}` }).expect(201)).body.id);
    return ids;
  };

  beforeAll(async () => {
    app = await createHostApp({ db, adapter });
  });
  afterAll(async () => {
    await app?.close();
  });
  beforeEach(async () => {
    await app.get(DataSource).query('DELETE FROM opportunity_lost_reason');
  });

  describe('POST (create)', () => {
    it('answers 201 with exactly the contract object', async () => {
      const before = Date.now();
      const { body } = await create({ lost_reason: 'Price too high' }).expect(201);
      expectContractObject(body);
      expect(body.updated_at).toBe(body.created_at);
      expect(Date.parse(body.created_at)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(body.created_at)).toBeLessThanOrEqual(Date.now());
      expect(body.lost_reason).toBe('Price too high');
    });

    it('creates an object from a JSON request with no body at all', async () => {
      const { body } = await api().post(RESOURCE).set(auth).set('Content-Type', 'application/json').expect(201);
      expect(body).toMatchObject({ id: expect.stringMatching(OBJECT_ID), lost_reason: null });
    });

    it('creates an object from a request without body or content type, and from an explicit null', async () => {
      await api().post(RESOURCE).set(auth).expect(201);
      const { body } = await create({ lost_reason: null }).expect(201);
      expect(body.lost_reason).toBeNull();
      expect(await total()).toBe(2);
    });

    it('takes JSON only: form-encoded parameters answer 415, with prototype keys or not', async () => {
      for (const form of ['lost_reason=Timing', '__proto__[admin]=1', 'lost_reason=ok&__proto__[x]=1']) {
        const { body } = await api().post(RESOURCE).set(auth).type('form').send(form).expect(415);
        expect(body.error.type).toBe('invalid_request_error');
      }
      expect(await total()).toBe(0);
    });

    it('issues unique random ids and ignores none: a client-chosen id is rejected', async () => {
      const ids = await createMany(5);
      expect(new Set(ids).size).toBe(5);
      const { body } = await create({ id: MISSING_ID, lost_reason: 'x' }).expect(400);
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'id' });
    });

    it('stores any well-formed Unicode and returns it unchanged', async () => {
      const text = 'Zu teuer 💸 — 价格太高 · e\u0301 · \u0001\u001f tab\tnewline\n · 👩‍👩‍👧 · \u202eRTL';
      const { body } = await create({ lost_reason: text }).expect(201);
      expect(body.lost_reason).toBe(text);
      const retrieved = await api().get(`${RESOURCE}/${body.id}`).set(auth).expect(200);
      expect(retrieved.body.lost_reason).toBe(text);
    });

    it(`accepts exactly ${LOST_REASON_MAX_LENGTH} characters (code points, astral included)`, async () => {
      for (const text of ['a'.repeat(LOST_REASON_MAX_LENGTH), '😀'.repeat(LOST_REASON_MAX_LENGTH)]) {
        const { body } = await create({ lost_reason: text }).expect(201);
        const retrieved = await api().get(`${RESOURCE}/${body.id}`).set(auth).expect(200);
        expect(retrieved.body.lost_reason).toBe(text);
      }
    });
  });

  describe('invalid requests answer 4xx, in the error shape, and store nothing', () => {
    const badBodies: Array<[string, string, number, string | undefined]> = [
      ['a number', '{"lost_reason":42}', 400, 'lost_reason'],
      ['a boolean', '{"lost_reason":true}', 400, 'lost_reason'],
      ['an object', '{"lost_reason":{"$gt":""}}', 400, 'lost_reason'],
      ['an array', '{"lost_reason":["a"]}', 400, 'lost_reason'],
      ['an object with a "constructor" key', '{"lost_reason":{"constructor":1}}', 400, 'lost_reason'],
      ['arrays nested 5,000 deep', `{"lost_reason":${'['.repeat(5000)}${']'.repeat(5000)}}`, 400, 'lost_reason'],
      ['objects nested 5,000 deep', `{"lost_reason":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, 400, 'lost_reason'],
      ['too long', JSON.stringify({ lost_reason: 'a'.repeat(LOST_REASON_MAX_LENGTH + 1) }), 400, 'lost_reason'],
      ['too long in astral characters', JSON.stringify({ lost_reason: '😀'.repeat(LOST_REASON_MAX_LENGTH + 1) }), 400, 'lost_reason'],
      ['too long in variation selectors', JSON.stringify({ lost_reason: '\ufe0f'.repeat(10000) }), 400, 'lost_reason'],
      ['a NUL character', '{"lost_reason":"a\\u0000b"}', 400, 'lost_reason'],
      ['a lone surrogate', '{"lost_reason":"a\\ud800b"}', 400, 'lost_reason'],
      ['an unknown field', '{"lost_reason":"a","amount":1}', 400, 'amount'],
      // Refused as the body's on both adapters (Fastify's parser refuses the key, with no param).
      ['a "__proto__" field', '{"__proto__":{"admin":true}}', 400, undefined],
      ['a JSON array', '[{"lost_reason":"a"}]', 400, undefined],
      ['a JSON string', '"lost_reason"', 400, undefined],
      ['a JSON number', '42', 400, undefined],
      ['JSON null', 'null', 400, undefined],
      ['malformed JSON', '{"lost_reason":', 400, undefined],
      // Above both adapters' default body limits (Express 100 kB, Fastify 1 MiB).
      ['oversized', JSON.stringify({ lost_reason: 'a'.repeat(1_100_000) }), 413, undefined],
    ];

    it.each(badBodies)('POST with %s', async (_case, raw, status, param) => {
      const { body } = await api().post(RESOURCE).set(auth).set('Content-Type', 'application/json').send(raw).expect(status);
      expect(body.error.type).toBe('invalid_request_error');
      expect(typeof body.error.message).toBe('string');
      expect(body.error.param).toBe(param);
      expect(await total()).toBe(0);
    });

    it.each(badBodies)('PATCH with %s', async (_case, raw, status, param) => {
      const created = (await create({ lost_reason: 'kept' }).expect(201)).body;
      const { body } = await api()
        .patch(`${RESOURCE}/${created.id}`)
        .set(auth)
        .set('Content-Type', 'application/json')
        .send(raw)
        .expect(status);
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.param).toBe(param);
      expect((await api().get(`${RESOURCE}/${created.id}`).set(auth)).body).toEqual(created);
    });

    const strangeIds = [
      'nope',
      MISSING_ID,
      'opportunity-lost-reason_' + 'f'.repeat(33),
      'OPPORTUNITY-LOST-REASON_00000000000000000000000000000000',
      'x'.repeat(100), // longer than any id, within Fastify's default maxParamLength
      '%00',
      'a%00b',
      '%F0%9F%98%80',
      "1'%20OR%20'1'='1",
      '%E2%80%AE',
    ];

    it.each(strangeIds.map((id) => [id.length > 60 ? `${id.slice(0, 10)}… (${id.length} chars)` : id, id]))(
      'answers 404 resource_missing for the id %s on retrieve, update and delete',
      async (_label, id) => {
        await create({ lost_reason: 'bystander' }).expect(201);
        for (const send of [
          () => api().get(`${RESOURCE}/${id}`),
          () => api().patch(`${RESOURCE}/${id}`).send({ lost_reason: 'x' }),
          () => api().delete(`${RESOURCE}/${id}`),
        ]) {
          const { status, body } = await send().set(auth);
          expect(status).toBe(404);
          expect(body.error).toMatchObject(RESOURCE_MISSING);
        }
        expect(await total()).toBe(1);
      },
    );

    it('answers 415 for a body in a content type it does not read, and stores nothing', async () => {
      for (const type of ['text/plain', 'application/xml', 'application/octet-stream']) {
        const { body } = await api().post(RESOURCE).set(auth).set('Content-Type', type).send('lost_reason=x').expect(415);
        expect(body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringMatching(/application\/json/) });
      }
      expect(await total()).toBe(0);
    });

    it('answers 404 in the error shape for a method or sub-path the resource does not have', async () => {
      for (const send of [
        () => api().put(RESOURCE),
        () => api().patch(RESOURCE),
        () => api().get(`${RESOURCE}/a/b`),
        () => api().post(`${RESOURCE}/${MISSING_ID}`),
      ]) {
        const { status, body } = await send().set(auth);
        expect(status).toBe(404);
        expect(body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringMatching(/^Unrecognized request URL/) });
      }
    });

    it('answers 4xx for a path that is not valid percent-encoding, and for an id of 8000 characters', async () => {
      const undecodable = await api().get(`${RESOURCE}/%C3%28%ZZ`).set(auth);
      const huge = await api()
        .get(`${RESOURCE}/${'x'.repeat(8000)}`)
        .set(auth);
      if (adapter === 'express') {
        expect(undecodable.status).toBe(400);
        expect(undecodable.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringMatching(/percent-encod/) });
        expect(huge.status).toBe(404);
        expect(huge.body.error.code).toBe('resource_missing');
      } else {
        // Fastify answers URL errors itself, before any route or hook: 400, and 414 for a
        // parameter over maxParamLength (Fastify 5; Fastify 4 answers 404).
        expect(undecodable.status).toBe(400);
        expect([404, 414]).toContain(huge.status);
      }
    });

    it('answers 500 as a bare api_error, with no SQL or stack, when the database fails', async () => {
      const dataSource = app.get(DataSource);
      await dataSource.query('DROP TABLE opportunity_lost_reason');
      try {
        const { status, body, text } = await api().get(RESOURCE).set(auth);
        expect(status).toBe(500);
        expect(body).toEqual(apiErrorBody(expect.stringMatching(/^req_/)));
        expect(text).not.toMatch(/select|opportunity_lost_reason|at .*\.js|QueryFailed/i);
      } finally {
        await restoreSchema(dataSource);
      }
    });
  });

  describe('GET /{id} (retrieve)', () => {
    it('answers the object as created', async () => {
      const created = (await create({ lost_reason: 'Chose a competitor' }).expect(201)).body;
      await api().get(`${RESOURCE}/${created.id}`).set(auth).expect(200, created);
    });
  });

  describe('GET (list)', () => {
    it('answers an empty page on an empty table', async () => {
      await api().get(RESOURCE).set(auth).expect(200, { data: [], has_more: false, total: 0 });
    });

    it('lists newest first, exactly, even for objects created within one millisecond', async () => {
      const ids = await createMany(30);
      const { body } = await api().get(`${RESOURCE}?limit=100`).set(auth).expect(200);
      expect(body.data.map((o: { id: string }) => o.id)).toEqual([...ids].reverse());
      expect(body).toMatchObject({ has_more: false, total: 30 });
    });

    it('lists objects created concurrently in created_at order, newest first', async () => {
      await Promise.all(Array.from({ length: 60 }, (_, i) => create({ lost_reason: `c${i}` }).expect(201)));
      const { data } = (await api().get(`${RESOURCE}?limit=100`).set(auth).expect(200)).body;
      const stamps: string[] = data.map((o: { created_at: string }) => o.created_at);
      expect(stamps).toHaveLength(60);
      expect(stamps).toEqual([...stamps].sort().reverse());
    });

    it('defaults to 20 per page and reports has_more and the exact total', async () => {
      await createMany(21);
      const { body } = await api().get(RESOURCE).set(auth).expect(200);
      expect(body.data).toHaveLength(20);
      expect(body).toMatchObject({ has_more: true, total: 21 });
      expect(Object.keys(body)).toEqual(['data', 'has_more', 'total']);
    });

    it('visits every object exactly once when paging with offset', async () => {
      const ids = await createMany(23);
      const seen: string[] = [];
      for (let offset = 0, hasMore = true; hasMore; offset += 5) {
        const { body } = await api().get(`${RESOURCE}?limit=5&offset=${offset}`).set(auth).expect(200);
        expect(body.total).toBe(23);
        seen.push(...body.data.map((o: { id: string }) => o.id));
        hasMore = body.has_more;
        expect(hasMore).toBe(offset + 5 < 23);
      }
      expect(seen).toEqual([...ids].reverse());
    });

    it('has_more is false on a page that ends exactly at the last object, and past the end', async () => {
      await createMany(4);
      expect((await api().get(`${RESOURCE}?limit=2&offset=2`).set(auth)).body).toMatchObject({ has_more: false, total: 4 });
      expect((await api().get(`${RESOURCE}?limit=4`).set(auth)).body).toMatchObject({ has_more: false, total: 4 });
      expect((await api().get(`${RESOURCE}?limit=3`).set(auth)).body).toMatchObject({ has_more: true, total: 4 });
      const past = (await api().get(`${RESOURCE}?offset=9`).set(auth).expect(200)).body;
      expect(past).toEqual({ data: [], has_more: false, total: 4 });
    });

    it('accepts the bounds limit=1, limit=100, offset=0 and the largest safe offset', async () => {
      await createMany(2);
      await api().get(`${RESOURCE}?offset=${Number.MAX_SAFE_INTEGER}`).set(auth).expect(200, { data: [], has_more: false, total: 2 });
      expect((await api().get(`${RESOURCE}?limit=1&offset=0`).set(auth).expect(200)).body.data).toHaveLength(1);
      expect((await api().get(`${RESOURCE}?limit=100`).set(auth).expect(200)).body.data).toHaveLength(2);
    });

    describe('cursors (starting_after, ending_before)', () => {
      const ids = (body: { data: Array<{ id: string }> }) => body.data.map((o) => o.id);

      it('walks forward with starting_after and back with ending_before, each object once, in order', async () => {
        const created = await createMany(23);
        const newestFirst = [...created].reverse();
        const forward: string[] = [];
        let page = (await api().get(`${RESOURCE}?limit=5`).set(auth).expect(200)).body;
        forward.push(...ids(page));
        while (page.has_more) {
          page = (
            await api()
              .get(`${RESOURCE}?limit=5&starting_after=${forward.at(-1)}`)
              .set(auth)
              .expect(200)
          ).body;
          expect(page.total).toBe(23);
          forward.push(...ids(page));
        }
        expect(forward).toEqual(newestFirst);

        const backward: string[][] = [];
        let before = newestFirst.at(-1)!;
        for (let hasMore = true; hasMore;) {
          page = (await api().get(`${RESOURCE}?limit=5&ending_before=${before}`).set(auth).expect(200)).body;
          backward.unshift(ids(page));
          hasMore = page.has_more;
          if (page.data.length > 0) before = page.data[0].id;
        }
        expect(backward.flat()).toEqual(newestFirst.slice(0, -1));
      });

      it('answers an empty last page past the oldest, and before the newest', async () => {
        const [oldest, newest] = [...(await createMany(2))];
        expect((await api().get(`${RESOURCE}?starting_after=${oldest}`).set(auth).expect(200)).body).toEqual({
          data: [],
          has_more: false,
          total: 2,
        });
        expect((await api().get(`${RESOURCE}?ending_before=${newest}`).set(auth).expect(200)).body).toEqual({
          data: [],
          has_more: false,
          total: 2,
        });
        expect(ids((await api().get(`${RESOURCE}?starting_after=${newest}`).set(auth).expect(200)).body)).toEqual([oldest]);
      });

      it('rejects combined or unknown cursors with a 400 naming the parameter', async () => {
        const [id] = await createMany(1);
        for (const [query, param, code] of [
          [`starting_after=${id}&offset=0`, 'offset', undefined],
          [`ending_before=${id}&offset=5`, 'offset', undefined],
          [`starting_after=${id}&ending_before=${id}`, 'ending_before', undefined],
          [`starting_after=${MISSING_ID}`, 'starting_after', 'resource_missing'],
          [`ending_before=nope`, 'ending_before', 'resource_missing'],
          [`starting_after=${id}&starting_after=${id}`, 'starting_after', undefined],
        ]) {
          const { body } = await api().get(`${RESOURCE}?${query}`).set(auth).expect(400);
          expect(body.error).toMatchObject({ type: 'invalid_request_error', param });
          expect(body.error.code).toBe(code);
        }
      });

      it('never repeats or skips an object that existed for the whole walk, while others insert and delete', async () => {
        const existing = await createMany(40);
        const doomedAtStart = new Set(existing.filter((_, i) => i % 7 === 3)); // deleted during the walk
        const doomed = new Set(doomedAtStart);
        const seen: string[] = [];
        let page = (await api().get(`${RESOURCE}?limit=6`).set(auth).expect(200)).body;
        seen.push(...ids(page));
        let round = 0;
        while (page.has_more) {
          // Writers between every page: new objects at the head, deletions anywhere except the cursor.
          const cursor = seen.at(-1)!;
          const victims = [...doomed].filter((id) => id !== cursor).slice(0, 2);
          victims.forEach((id) => doomed.delete(id));
          await Promise.all([
            ...Array.from({ length: 3 }, (_, i) => create({ lost_reason: `during ${round}.${i}` }).expect(201)),
            ...victims.map((id) => api().delete(`${RESOURCE}/${id}`).set(auth).expect(200)),
          ]);
          page = (await api().get(`${RESOURCE}?limit=6&starting_after=${cursor}`).set(auth).expect(200)).body;
          seen.push(...ids(page));
          round++;
        }
        expect(new Set(seen).size).toBe(seen.length);
        const survivors = existing.filter((id) => !doomedAtStart.has(id));
        expect(seen.filter((id) => survivors.includes(id))).toEqual([...survivors].reverse());
      });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=', 'limit'],
      ['limit=1e1', 'limit'],
      ['limit=0x10', 'limit'],
      ['limit=%201', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['limit=99999999999999999999999', 'limit'],
      ['offset=-1', 'offset'],
      ['offset=ten', 'offset'],
      ['offset=99999999999999999999999', 'offset'],
      ['starting_afte=x', 'starting_afte'],
    ])('answers 400 naming the parameter for ?%s', async (query, param) => {
      const { body } = await api().get(`${RESOURCE}?${query}`).set(auth).expect(400);
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param });
    });
  });

  describe('PATCH /{id} (update)', () => {
    it('sets what is passed, keeps created_at and bumps updated_at', async () => {
      const created = (await create({ lost_reason: 'old' }).expect(201)).body;
      await sleep(5);
      const { body } = await api().patch(`${RESOURCE}/${created.id}`).set(auth).send({ lost_reason: 'new' }).expect(200);
      expect(body).toMatchObject({ id: created.id, created_at: created.created_at, lost_reason: 'new' });
      expect(body.updated_at).toMatch(ISO_UTC_MS);
      expect(Date.parse(body.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
      await api().get(`${RESOURCE}/${created.id}`).set(auth).expect(200, body);
    });

    it('moves updated_at strictly forward even when writes fall in the same millisecond', async () => {
      for (let i = 0; i < 10; i++) {
        const created = (await create({ lost_reason: 'fast' }).expect(201)).body;
        const first = (await api().patch(`${RESOURCE}/${created.id}`).set(auth).send({}).expect(200)).body;
        const second = (await api().patch(`${RESOURCE}/${created.id}`).set(auth).send({ lost_reason: 'faster' }).expect(200)).body;
        expect(first.updated_at > created.updated_at).toBe(true);
        expect(second.updated_at > first.updated_at).toBe(true);
        expect(second.created_at).toBe(created.created_at);
      }
    });

    it('clears with null and leaves fields that are not passed unchanged', async () => {
      const created = (await create({ lost_reason: 'keep me' }).expect(201)).body;
      const unchanged = (await api().patch(`${RESOURCE}/${created.id}`).set(auth).send({}).expect(200)).body;
      expect(unchanged.lost_reason).toBe('keep me');
      const cleared = (await api().patch(`${RESOURCE}/${created.id}`).set(auth).send({ lost_reason: null }).expect(200)).body;
      expect(cleared.lost_reason).toBeNull();
    });
  });

  describe('DELETE /{id}', () => {
    it('deletes permanently; afterwards retrieve, update and delete answer 404', async () => {
      const { id } = (await create({ lost_reason: 'gone' }).expect(201)).body;
      await api().delete(`${RESOURCE}/${id}`).set(auth).expect(200, { id, deleted: true });
      await api().get(`${RESOURCE}/${id}`).set(auth).expect(404);
      await api().patch(`${RESOURCE}/${id}`).set(auth).send({ lost_reason: 'x' }).expect(404);
      await api().delete(`${RESOURCE}/${id}`).set(auth).expect(404);
      expect(await total()).toBe(0);
    });
  });

  describe('authentication', () => {
    const badHeaders: Array<[string, Record<string, string>]> = [
      ['no Authorization header', {}],
      ['an empty bearer', { Authorization: 'Bearer ' }],
      ['another scheme', { Authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}` }],
      ['the bare key', { Authorization: API_KEY }],
      ['a wrong key', { Authorization: 'Bearer sk_test_wrong' }],
      ['a prefix of the key', { Authorization: `Bearer ${API_KEY.slice(0, -1)}` }],
      ['the key with a suffix', { Authorization: `Bearer ${API_KEY}x` }],
      ['two keys', { Authorization: `Bearer ${API_KEY} ${API_KEY}` }],
    ];

    it.each(badHeaders)('answers 401 with %s on every endpoint, and changes nothing', async (_case, headers) => {
      const created = (await create({ lost_reason: 'safe' }).expect(201)).body;
      const item = `${RESOURCE}/${created.id}`;
      for (const send of [
        () => api().post(RESOURCE).send({ lost_reason: 'x' }),
        () => api().get(RESOURCE),
        () => api().get(item),
        () => api().patch(item).send({ lost_reason: 'x' }),
        () => api().delete(item),
      ]) {
        const { status, body, text } = await send().set(headers);
        expect(status).toBe(401);
        expect(body.error.type).toBe('authentication_error');
        expect(text).not.toContain('sk_test');
      }
      await api().get(item).set(auth).expect(200, created);
      expect(await total()).toBe(1);
    });

    it('answers 401 before looking at a bad body, a bad media type or an unknown route', async () => {
      for (const send of [
        () => api().post(RESOURCE).set('Content-Type', 'application/json').send('{'),
        () =>
          api()
            .post(RESOURCE)
            .set('Content-Type', 'application/json')
            .send(JSON.stringify({ lost_reason: 'a'.repeat(1_100_000) })),
        () => api().post(RESOURCE).set('Content-Type', 'application/json; charset=utf-16').send('{}'),
        () => api().post(RESOURCE).type('form').send('lost_reason=x'),
        () => api().put(RESOURCE),
        () => api().get(`${RESOURCE}/a/b`),
      ]) {
        const { status, body } = await send().set('Authorization', 'Bearer sk_test_wrong');
        expect(status).toBe(401);
        expect(body.error.type).toBe('authentication_error');
      }
      expect(await total()).toBe(0);
    });

    it('answers 401 to two Authorization headers, even when both hold the key (a proxy may read the other one)', async () => {
      const created = (await create({ lost_reason: 'safe' }).expect(201)).body;
      const item = `${RESOURCE}/${created.id}`;
      for (const pair of [
        [`Bearer ${API_KEY}`, 'Bearer sk_test_wrong'],
        ['Bearer sk_test_wrong', `Bearer ${API_KEY}`],
        [`Bearer ${API_KEY}`, `Bearer ${API_KEY}`],
      ]) {
        for (const send of [
          () => api().get(RESOURCE),
          () => api().patch(item).send({ lost_reason: 'x' }),
          () => api().delete(item),
          () => api().put(RESOURCE),
        ]) {
          // An array value makes Node send one header line per entry.
          const { status, body } = await send().set('Authorization', pair as unknown as string);
          expect(status).toBe(401);
          expect(body.error.type).toBe('authentication_error');
        }
      }
      await api().get(item).set(auth).expect(200, created);
    });

    it('applies its rules on every alias of its path the adapter routes to it (case on Express, percent-encoding on Fastify)', async () => {
      const alias = adapter === 'express' ? RESOURCE.toUpperCase() : RESOURCE.replace('reason', 'r%65ason');
      await api().get(alias).set(auth).expect(200); // the adapter does route it to the module
      for (const send of [
        () => api().post(alias).set('Content-Type', 'application/json').send('{'),
        () =>
          api()
            .post(alias)
            .set('Content-Type', 'application/json')
            .send(JSON.stringify({ lost_reason: 'a'.repeat(1_100_000) })),
        () => api().put(alias),
      ]) {
        const response = await send();
        expect(response.status).toBe(401);
        expect(response.body.error.type).toBe('authentication_error');
        expect(response.headers['request-id']).toMatch(/^req_/);
      }
      const malformed = await api().post(alias).set(auth).set('Content-Type', 'application/json').send('{');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.type).toBe('invalid_request_error');
      expect(malformed.headers['request-id']).toMatch(/^req_/);
      const oversized = await api()
        .post(alias)
        .set(auth)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ lost_reason: 'a'.repeat(1_100_000) }));
      expect(oversized.status).toBe(413);
      expect(oversized.body.error.type).toBe('invalid_request_error');
    });

    it('accepts the scheme in any case', async () => {
      await api().get(RESOURCE).set('Authorization', `bearer ${API_KEY}`).expect(200);
    });
  });

  describe('concurrency', () => {
    it('parallel creates all land, with unique ids', async () => {
      const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => create({ lost_reason: `p${i}` })));
      expect(responses.map((r) => r.status)).toEqual(Array(40).fill(201));
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(40);
      expect(await total()).toBe(40);
    });

    it('parallel updates of one object leave it equal to one whole update, each answer its own', async () => {
      const { id } = (await create({ lost_reason: 'start' }).expect(201)).body;
      const values = Array.from({ length: 20 }, (_, i) => `value ${i}`);
      const responses = await Promise.all(values.map((v) => api().patch(`${RESOURCE}/${id}`).set(auth).send({ lost_reason: v })));
      responses.forEach((r, i) => expect(r.body.lost_reason).toBe(values[i]));
      const final = (await api().get(`${RESOURCE}/${id}`).set(auth).expect(200)).body;
      const winner = responses.find((r) => r.body.lost_reason === final.lost_reason);
      expect(winner?.body).toEqual(final);
      // The writes happened one after another: each moved updated_at past the one before it.
      const stamps = responses.map((r) => r.body.updated_at as string).sort();
      expect(new Set(stamps).size).toBe(values.length);
      expect(final.updated_at).toBe(stamps.at(-1));
    });

    it('steps updated_at one millisecond past a stored value in the future, across a year end', async () => {
      const { id } = (await create({ lost_reason: 'future' }).expect(201)).body;
      const dataSource = app.get(DataSource);
      const set = (value: string) =>
        dataSource.query(
          `UPDATE opportunity_lost_reason SET updated_at = ${dataSource.driver.createParameter('v', 0)} WHERE id = ${dataSource.driver.createParameter('id', 1)}`,
          [value, id],
        );
      await set('2999-12-31T23:59:59.999Z');
      expect((await api().patch(`${RESOURCE}/${id}`).set(auth).send({}).expect(200)).body.updated_at).toBe('3000-01-01T00:00:00.000Z');
      await set('2999-02-28T23:59:59.999Z');
      expect((await api().patch(`${RESOURCE}/${id}`).set(auth).send({ lost_reason: 'x' }).expect(200)).body.updated_at).toBe(
        '2999-03-01T00:00:00.000Z',
      );
    });

    it('under contention, 200 parallel updates of one object all succeed, each with a later updated_at', async () => {
      const { id } = (await create({ lost_reason: 'start' }).expect(201)).body;
      const values = Array.from({ length: 200 }, (_, i) => `contended ${i}`);
      const responses = await Promise.all(values.map((v) => api().patch(`${RESOURCE}/${id}`).set(auth).send({ lost_reason: v })));
      expect(responses.map((r) => r.status)).toEqual(values.map(() => 200));
      const stamps = responses.map((r) => r.body.updated_at as string);
      expect(new Set(stamps).size).toBe(values.length);
      const last = responses.reduce((latest, r) => (r.body.updated_at > latest.body.updated_at ? r : latest));
      expect((await api().get(`${RESOURCE}/${id}`).set(auth).expect(200)).body).toEqual(last.body);
    });

    it('of parallel deletes of one object exactly one succeeds', async () => {
      const { id } = (await create({ lost_reason: 'once' }).expect(201)).body;
      const statuses = (await Promise.all(Array.from({ length: 10 }, () => api().delete(`${RESOURCE}/${id}`).set(auth)))).map(
        (r) => r.status,
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 404)).toHaveLength(9);
    });
  });

  describe('time zones', () => {
    const inZone = async <T>(zone: string, run: () => Promise<T>): Promise<T> => {
      const previous = process.env.TZ;
      process.env.TZ = zone;
      try {
        return await run();
      } finally {
        if (previous === undefined) delete process.env.TZ;
        else process.env.TZ = previous;
      }
    };

    it('answers the same UTC timestamps whatever the process time zone at write and at read', async () => {
      const created = await inZone('Pacific/Kiritimati', async () => (await create({}).expect(201)).body);
      expect(created.created_at).toMatch(ISO_UTC_MS);
      expect(Math.abs(Date.parse(created.created_at) - Date.now())).toBeLessThan(60_000);
      for (const zone of ['UTC', 'America/St_Johns', 'Asia/Kathmandu']) {
        const retrieved = await inZone(zone, async () => (await api().get(`${RESOURCE}/${created.id}`).set(auth).expect(200)).body);
        expect(retrieved).toEqual(created);
        const listed = await inZone(zone, async () => (await api().get(RESOURCE).set(auth).expect(200)).body.data[0]);
        expect(listed).toEqual(created);
      }
    });
  });
});
