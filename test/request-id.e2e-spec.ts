import request from 'supertest';
import { DataSource } from 'typeorm';
import { LostReasonModule, REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from '../lib';
import { ChattyHostGuard } from './fixtures/chatty-host-guard.fixture';
import { HostRoutesWithErrorModule } from './fixtures/host-routes-with-error.module';
import { OLDEST_LINE_QUIRKS, testedAdapters } from './support/adapters';
import { CollectingLogger } from './support/collecting-logger';
import { apiErrorBody, MISSING_ID, OBJECT_FIELDS } from './support/contract';
import { API_KEY, auth, createHostApp, RESOURCE, restoreSchema } from './support/host-app';

/** `Request-Id` as received (supertest lowercases header names). */
const requestIdHeader = (response: request.Response): string | undefined => response.headers[REQUEST_ID_HEADER.toLowerCase()];

/** The response's `Request-Id`: well-formed, and in an error body, the same as `error.request_id`. */
function idOf(response: request.Response): string {
  const id = requestIdHeader(response);
  expect(id).toMatch(REQUEST_ID_PATTERN);
  if (response.status >= 400) expect(response.body.error.request_id).toBe(id);
  return id!;
}

describe.each(testedAdapters())('Request-Id (sqlite, %s)', (adapter) => {
  let app: Awaited<ReturnType<typeof createHostApp>>;
  const logger = new CollectingLogger();
  const api = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await createHostApp({
      db: 'sqlite',
      imports: [HostRoutesWithErrorModule, LostReasonModule.forRoot({ apiKeys: [API_KEY] })],
      configure: (nest) => nest.useLogger(logger),
      adapter,
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    logger.clear();
  });

  it('is on the successful answers of all five routes, different each time', async () => {
    const created = await api().post(RESOURCE).set(auth).send({ lost_reason: 'traced' }).expect(201);
    const item = `${RESOURCE}/${created.body.id}`;
    const responses = [
      created,
      await api().get(RESOURCE).set(auth).expect(200),
      await api().get(item).set(auth).expect(200),
      await api().patch(item).set(auth).send({ lost_reason: 'retraced' }).expect(200),
      await api().delete(item).set(auth).expect(200),
      await api().get(RESOURCE).set(auth).expect(200),
    ];
    const ids = responses.map(idOf);
    expect(new Set(ids).size).toBe(ids.length);
    // Success bodies are unchanged: the id is in the header only.
    expect(Object.keys(created.body)).toEqual(OBJECT_FIELDS);
  });

  it('is on every error, equal to error.request_id: 400, 401, 404, 413, 415', async () => {
    const json = { 'Content-Type': 'application/json' };
    const cases: Array<[number, () => request.Test]> = [
      [400, () => api().get(`${RESOURCE}?limit=500`).set(auth)],
      [400, () => api().post(RESOURCE).set(auth).send({ lost_reason: 42 })],
      [400, () => api().post(RESOURCE).set(auth).set(json).send('{"lost_reason":')],
      [401, () => api().get(RESOURCE)],
      [401, () => api().get(RESOURCE).set('Authorization', 'Bearer sk_test_wrong')],
      [401, () => api().post(RESOURCE).set('Authorization', 'Bearer sk_test_wrong').set(json).send('{')],
      [404, () => api().get(`${RESOURCE}/${MISSING_ID}`).set(auth)],
      [404, () => api().put(RESOURCE).set(auth)],
      [404, () => api().get(`${RESOURCE}/a/b`).set(auth)],
      [
        413,
        () =>
          api()
            .post(RESOURCE)
            .set(auth)
            .set(json)
            .send(JSON.stringify({ lost_reason: 'a'.repeat(1_100_000) })),
      ],
      [415, () => api().post(RESOURCE).set(auth).set('Content-Type', 'text/plain').send('lost_reason=x')],
      [415, () => api().post(RESOURCE).set(auth).type('form').send('lost_reason=x')],
    ];
    const ids: string[] = [];
    for (const [status, send] of cases) {
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.body.error.type).toEqual(expect.any(String));
      ids.push(idOf(response));
    }
    expect(new Set(ids).size).toBe(ids.length);
    // Client errors are not logged as the module's errors.
    expect(logger.lines.filter((line) => line.includes('req_'))).toEqual([]);
  });

  it("is on the 4xx of an alias of the module's path too, which logs nothing as an error", async () => {
    const alias = adapter === 'express' ? RESOURCE.toUpperCase() : RESOURCE.replace('reason', 'r%65ason');
    const oversized = () =>
      api()
        .post(alias)
        .set(auth)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ lost_reason: 'a'.repeat(1_100_000) }));
    const malformed = () => api().post(alias).set(auth).set('Content-Type', 'application/json').send('{');
    // NestJS 10's Fastify adapter logs any 413 as an error (docs/installation.md, "Supported versions").
    const quiet413 = adapter === 'express' || !OLDEST_LINE_QUIRKS.fastifyLogs413();
    for (const send of quiet413 ? [oversized, malformed] : [malformed]) {
      const response = await send();
      expect(response.status).toBeGreaterThanOrEqual(400);
      idOf(response);
    }
    expect(logger.entries.filter(({ level }) => level === 'error')).toEqual([]);
  });

  it("ignores an incoming Request-Id or X-Request-Id: ids are always the module's own", async () => {
    const response = await api().get(RESOURCE).set(auth).set('Request-Id', 'req_forged').set('X-Request-Id', 'req_forged').expect(200);
    expect(idOf(response)).not.toBe('req_forged');
  });

  it('is on a 500, equal to error.request_id and to the id in the logged line, which never holds the key', async () => {
    const dataSource = app.get(DataSource);
    await dataSource.query('DROP TABLE opportunity_lost_reason');
    try {
      const response = await api().get(`${RESOURCE}?limit=3`).set(auth).expect(500);
      const id = idOf(response);
      expect(response.body).toEqual(apiErrorBody(id));
      const logged = logger.lines.filter((line) => line.includes(id));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(new RegExp(`^\\[${id}\\] GET ${RESOURCE} failed: .*opportunity_lost_reason`, 's'));
      expect(logged[0]).not.toContain('limit=3');
      expect(logger.lines.join('\n')).not.toContain(API_KEY);
    } finally {
      await restoreSchema(dataSource);
    }
  });

  it("leaves the host's routes without a Request-Id, successes and errors alike", async () => {
    const responses = [
      await api().get('/host/ping').expect(200),
      await api().post('/host/echo').send({ x: 1 }).expect(201),
      await api().post('/host/echo').set('Content-Type', 'application/json').send('{').expect(400),
      await api().get('/host/missing').expect(404),
      await api().get('/host/boom').expect(500),
    ];
    for (const response of responses) expect(requestIdHeader(response)).toBeUndefined();
    expect(JSON.stringify(responses.map((response) => response.body))).not.toContain('request_id');
  });
});

describe.each(testedAdapters())("Request-Id when the host's key check fails (sqlite, %s)", (adapter) => {
  const key = 'sk_live_leaky_4eC39HqLyjWDarjt';
  const logger = new CollectingLogger();
  let app: Awaited<ReturnType<typeof createHostApp>>;
  const api = () => request(app.getHttpServer());

  beforeAll(async () => {
    const verifyApiKey = async (apiKey: string): Promise<boolean> => {
      throw new Error(`vault unreachable while checking ${apiKey} (Authorization: Bearer ${apiKey})`);
    };
    app = await createHostApp({
      db: 'sqlite',
      imports: [LostReasonModule.forRoot({ verifyApiKey })],
      configure: (nest) => nest.useLogger(logger),
      adapter,
    });
  });
  afterAll(() => app.close());

  it.each([
    ['on a route', () => api().get(RESOURCE)],
    [
      'on a malformed body (the fallback checks the key first)',
      () => api().post(RESOURCE).set('Content-Type', 'application/json').send('{'),
    ],
    ['on an unknown route', () => api().put(RESOURCE)],
  ])('answers a bare 500 %s and logs it with the id, never with the key', async (_case, send) => {
    logger.clear();
    const response = await send().set('Authorization', `Bearer ${key}`);
    expect(response.status).toBe(500);
    const id = idOf(response);
    expect(response.body).toEqual(apiErrorBody(id));
    expect(response.text).not.toContain(key);
    const logged = logger.lines.filter((line) => line.startsWith(`[${id}] `));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/vault unreachable while checking \[REDACTED\] \(Authorization: (Bearer )?\[REDACTED\]\)/);
    expect(logger.lines.join('\n')).not.toContain(key);
  });
});

describe.each(testedAdapters())("Request-Id with the host's own guards (sqlite, %s)", (adapter) => {
  it("answers the guard's error with an id, and without the key it mentions", async () => {
    const app = await createHostApp({ db: 'sqlite', imports: [LostReasonModule.forRoot({ guards: [ChattyHostGuard] })], adapter });
    try {
      const response = await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(403);
      const id = idOf(response);
      expect(response.body).toEqual({
        error: { type: 'invalid_request_error', message: 'The key in "[REDACTED]" is revoked', request_id: id },
      });
    } finally {
      await app.close();
    }
  });
});
