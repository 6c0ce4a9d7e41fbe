import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import { LostReasonModule } from '../lib';
import { setupOpenApi } from '../sample/openapi';
import { STORABLE_TEXT_PATTERN } from '../lib/dto/is-storable-text.decorator';
import { OBJECT_FIELDS, OBJECT_ID } from './support/contract';
import { API_KEY, auth, createHostApp, RESOURCE } from './support/host-app';

type Schema = Record<string, any>;

const ITEM = `${RESOURCE}/{id}`;
const ERROR_REF = '#/components/schemas/LostReasonError';
const LIB = join(__dirname, '..', 'lib');

/** The document a host builds, with the bearer scheme the module's operations refer to. */
const buildDocument = (app: INestApplication): OpenAPIObject =>
  SwaggerModule.createDocument(app, new DocumentBuilder().addBearerAuth().build());

/** Follows a `$ref` into `components.schemas`. */
function resolve(doc: OpenAPIObject, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = String(schema.$ref).replace('#/components/schemas/', '');
  const target = doc.components?.schemas?.[name];
  if (!target) throw new Error(`dangling $ref ${schema.$ref}`);
  return target as Schema;
}

/**
 * Why `value` does not match `schema` (undefined when it does). Covers what the module's schemas
 * use; objects may not carry properties the schema does not list.
 */
function mismatch(doc: OpenAPIObject, value: unknown, ref: Schema, at = '$'): string | undefined {
  const schema = resolve(doc, ref);
  if (value === null) return schema.nullable ? undefined : `${at} is null`;
  if (schema.enum && !schema.enum.includes(value)) return `${at} is not one of ${schema.enum}`;
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return `${at} is not a string`;
      if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return `${at} is too long`;
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) return `${at} does not match ${schema.pattern}`;
      return undefined;
    case 'integer':
      return Number.isInteger(value) ? undefined : `${at} is not an integer`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${at} is not a boolean`;
    case 'array':
      if (!Array.isArray(value)) return `${at} is not an array`;
      return value.map((item, i) => mismatch(doc, item, schema.items, `${at}[${i}]`)).find(Boolean);
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return `${at} is not an object`;
      const record = value as Record<string, unknown>;
      const missing = (schema.required ?? []).find((key: string) => !(key in record));
      if (missing) return `${at}.${missing} is missing`;
      const extra = Object.keys(record).find((key) => !(key in schema.properties));
      if (extra) return `${at}.${extra} is not in the schema`;
      return Object.entries(record)
        .map(([key, item]) => mismatch(doc, item, schema.properties[key], `${at}.${key}`))
        .find(Boolean);
    }
    default:
      return `${at}: unexpected schema ${JSON.stringify(schema)}`;
  }
}

describe('OpenAPI document (with @nestjs/swagger installed)', () => {
  let app: INestApplication;
  let doc: OpenAPIObject;
  const operation = (path: string, method: string) => (doc.paths[path] as Schema)[method];
  const responseSchema = (path: string, method: string, status: number) =>
    resolve(doc, operation(path, method).responses[status].content['application/json'].schema);

  beforeAll(async () => {
    app = await createHostApp({ db: 'sqlite' });
    doc = buildDocument(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('has exactly the five operations, on the default path', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== 'parameters')
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual([`POST ${RESOURCE}`, `GET ${RESOURCE}`, `GET ${ITEM}`, `PATCH ${ITEM}`, `DELETE ${ITEM}`].sort());
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item as Schema).map((op) => op.operationId));
    expect(ids.sort()).toEqual(['createLostReason', 'deleteLostReason', 'listLostReasons', 'retrieveLostReason', 'updateLostReason']);
  });

  it('describes limit, offset and the cursors of the list, with bounds and defaults', () => {
    const params = operation(RESOURCE, 'get').parameters as Schema[];
    expect(params).toHaveLength(4);
    const byName = Object.fromEntries(params.map((param) => [param.name, param]));
    expect(byName.limit).toMatchObject({ in: 'query', required: false });
    expect(byName.limit.schema).toEqual({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
    expect(byName.offset).toMatchObject({ in: 'query', required: false });
    expect(byName.offset.schema).toEqual({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 });
    for (const cursor of ['starting_after', 'ending_before']) {
      expect(byName[cursor]).toMatchObject({ in: 'query', required: false, schema: { type: 'string', pattern: OBJECT_ID.source } });
    }
    expect(operation(RESOURCE, 'post').parameters).toEqual([
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: expect.stringContaining('safe to retry'),
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]{1,255}$' },
      },
    ]);
    expect(operation(RESOURCE, 'post').responses[201].headers).toEqual({
      'Request-Id': expect.any(Object),
      'Idempotent-Replayed': { description: expect.any(String), schema: { type: 'string', enum: ['true'] } },
    });
  });

  it.each(['get', 'patch', 'delete'])('describes the id path parameter of %s /{id}', (method) => {
    const params = operation(ITEM, method).parameters as Schema[];
    expect(params).toHaveLength(1);
    expect(params[0]).toMatchObject({ name: 'id', in: 'path', required: true, schema: { type: 'string' } });
  });

  it.each(['post', 'patch'])('describes the optional %s body: lost_reason, a nullable string of at most 500', (method) => {
    const path = method === 'post' ? RESOURCE : ITEM;
    const body = operation(path, method).requestBody;
    // No body at all is valid: create makes an empty object, update changes nothing.
    expect(body.required).toBe(false);
    expect(Object.keys(body.content)).toEqual(['application/json']);
    const schema = resolve(doc, body.content['application/json'].schema);
    expect(Object.keys(schema.properties)).toEqual(['lost_reason']);
    expect(schema.required ?? []).toEqual([]);
    expect(schema.properties.lost_reason).toMatchObject({ type: 'string', nullable: true, maxLength: 500, pattern: STORABLE_TEXT_PATTERN });
    // The server refuses unknown parameters: so does the schema.
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.lost_reason.description).toEqual(expect.any(String));
    expect(schema.properties.lost_reason.example).toEqual(expect.any(String));
  });

  it('has no request body on the other operations', () => {
    for (const [path, method] of [
      [RESOURCE, 'get'],
      [ITEM, 'get'],
      [ITEM, 'delete'],
    ]) {
      expect(operation(path, method).requestBody).toBeUndefined();
    }
  });

  it('describes the object, the list envelope and the delete confirmation', () => {
    const object = responseSchema(RESOURCE, 'post', 201);
    expect(Object.keys(object.properties)).toEqual(OBJECT_FIELDS);
    expect(object.required).toEqual(OBJECT_FIELDS);
    expect(object.properties.id).toMatchObject({ type: 'string', pattern: OBJECT_ID.source });
    expect(object.properties.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    expect(object.properties.lost_reason).toMatchObject({ type: 'string', nullable: true, maxLength: 500 });
    expect(responseSchema(ITEM, 'get', 200)).toBe(object);
    expect(responseSchema(ITEM, 'patch', 200)).toBe(object);

    const list = responseSchema(RESOURCE, 'get', 200);
    expect(list.required).toEqual(['data', 'has_more', 'total']);
    expect(list.properties.data.type).toBe('array');
    expect(resolve(doc, list.properties.data.items)).toBe(object);
    expect(list.properties.has_more.type).toBe('boolean');
    expect(list.properties.total).toMatchObject({ type: 'integer', minimum: 0 });

    const deleted = responseSchema(ITEM, 'delete', 200);
    expect(deleted.required).toEqual(['id', 'deleted']);
    expect(deleted.properties.id.type).toBe('string');
    expect(deleted.properties.deleted).toMatchObject({ type: 'boolean', enum: [true] });
  });

  it.each([
    [RESOURCE, 'post', [201, 400, 401, 409, 413, 415, 500, 503]],
    [RESOURCE, 'get', [200, 400, 401, 500, 503]],
    [ITEM, 'get', [200, 400, 401, 404, 500, 503]],
    [ITEM, 'patch', [200, 400, 401, 404, 413, 415, 500, 503]],
    [ITEM, 'delete', [200, 400, 401, 404, 500, 503]],
  ] as const)('lists the responses of %s %s, errors in the error shape', (path, method, statuses) => {
    const { responses } = operation(path, method);
    expect(Object.keys(responses).map(Number)).toEqual(statuses);
    for (const status of statuses.filter((code) => code >= 400)) {
      expect(responses[status].description).toEqual(expect.any(String));
      expect(responses[status].content['application/json'].schema).toEqual({ $ref: ERROR_REF });
    }
    // Every answer has a Request-Id; every 503, and only a 503, a Retry-After (errorHeaders).
    for (const status of statuses) {
      const headers = Object.keys(responses[status].headers).filter((name) => name !== 'Idempotent-Replayed');
      expect(headers).toEqual(status === 503 ? ['Request-Id', 'Retry-After'] : ['Request-Id']);
      expect(responses[status].headers['Request-Id']).toMatchObject({
        required: true,
        schema: { type: 'string', pattern: '^req_[0-9A-Za-z]{20}$' },
      });
    }
    expect(responses[503].headers['Retry-After']).toMatchObject({ required: true, schema: { type: 'integer', minimum: 0 } });
  });

  it('describes the error object: { error: { type, message, param?, code?, request_id } }', () => {
    const envelope = resolve(doc, { $ref: ERROR_REF });
    expect(Object.keys(envelope.properties)).toEqual(['error']);
    expect(envelope.required).toEqual(['error']);
    const detail = resolve(doc, envelope.properties.error);
    expect(Object.keys(detail.properties)).toEqual(['type', 'message', 'param', 'code', 'request_id']);
    expect(detail.required).toEqual(['type', 'message', 'request_id']);
    expect(detail.properties.type).toMatchObject({
      type: 'string',
      enum: ['invalid_request_error', 'authentication_error', 'idempotency_error', 'api_error'],
    });
    for (const key of ['message', 'param', 'code', 'request_id']) expect(detail.properties[key].type).toBe('string');
    expect(detail.properties.code.enum).toEqual([
      'resource_missing',
      'resource_in_use',
      'resource_already_exists',
      'idempotency_key_in_use',
    ]);
  });

  it("lists every error code lib/ answers with (the codes' enum is kept by hand)", () => {
    // Codes appear as `code: '…'` or as the third argument of the exceptions that take one (or of their super calls);
    // an argument is read whole: a string (commas in it included), a call, or anything without commas.
    const argument = "(?:'[^']*'|`[^`]*`|\\([^()]*\\)|[^,()'`])*";
    const codes = new Set<string>();
    for (const file of readdirSync(LIB, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.spec.ts')) continue;
      const source = readFileSync(join(LIB, file), 'utf8');
      for (const [, code] of source.matchAll(/\bcode: '(\w+)'/g)) codes.add(code);
      const call = new RegExp(`(?:new (?:InvalidRequestException|IdempotencyException)|super)\\(${argument},${argument},\\s*'(\\w+)'`, 'g');
      for (const [, code] of source.matchAll(call)) codes.add(code);
    }
    const detail = resolve(doc, resolve(doc, { $ref: ERROR_REF }).properties.error);
    expect([...codes].sort()).toEqual([...detail.properties.code.enum].sort());
  });

  it('secures every operation with the bearer scheme and tags them', () => {
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item as Schema)) {
        expect(op.security).toEqual([{ bearer: [] }]);
        expect(op.tags).toEqual(['Opportunity Lost Reasons']);
      }
    }
  });

  it('matches what the API really answers', async () => {
    const api = () => request(app.getHttpServer());
    const conforms = (body: unknown, path: string, method: string, status: number) =>
      expect(mismatch(doc, body, operation(path, method).responses[status].content['application/json'].schema)).toBeUndefined();

    const created = await api().post(RESOURCE).set(auth).send({ lost_reason: 'Price too high' }).expect(201);
    conforms(created.body, RESOURCE, 'post', 201);
    const empty = await api().post(RESOURCE).set(auth).expect(201);
    conforms(empty.body, RESOURCE, 'post', 201);
    const item = `${RESOURCE}/${created.body.id}`;
    conforms((await api().get(item).set(auth).expect(200)).body, ITEM, 'get', 200);
    conforms((await api().patch(item).set(auth).send({ lost_reason: null }).expect(200)).body, ITEM, 'patch', 200);
    conforms((await api().get(RESOURCE).set(auth).expect(200)).body, RESOURCE, 'get', 200);
    conforms((await api().delete(item).set(auth).expect(200)).body, ITEM, 'delete', 200);

    conforms((await api().get(item).set(auth).expect(404)).body, ITEM, 'get', 404);
    conforms((await api().get(`${RESOURCE}?limit=101`).set(auth).expect(400)).body, RESOURCE, 'get', 400);
    conforms((await api().get(RESOURCE).expect(401)).body, RESOURCE, 'get', 401);
    const tooLong = await api()
      .post(RESOURCE)
      .set(auth)
      .send({ lost_reason: 'x'.repeat(501) })
      .expect(400);
    conforms(tooLong.body, RESOURCE, 'post', 400);
    const text = await api().post(RESOURCE).set(auth).set('Content-Type', 'text/plain').send('hello').expect(415);
    conforms(text.body, RESOURCE, 'post', 415);
  });
});

describe('OpenAPI document of a module on a custom path', () => {
  it('follows the path the host chose', async () => {
    const app = await createHostApp({ db: 'sqlite', imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY], path: 'v2/lost-reasons' })] });
    try {
      const doc = buildDocument(app);
      expect(Object.keys(doc.paths).sort()).toEqual(['/v2/lost-reasons', '/v2/lost-reasons/{id}']);
      expect(Object.keys(doc.paths['/v2/lost-reasons/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    } finally {
      await app.close();
    }
  });
});

describe("the sample's documentation routes", () => {
  it('serve the document at /docs-json and Swagger UI at /docs', async () => {
    const app = await createHostApp({ db: 'sqlite', configure: setupOpenApi });
    try {
      const { body: doc } = await request(app.getHttpServer()).get('/docs-json').expect(200);
      expect(Object.keys(doc.paths).sort()).toEqual([RESOURCE, ITEM]);
      // A server, as Redocly's recommended rules and the generators behind them require.
      expect(doc.servers).toEqual([{ url: '/', description: 'This server' }]);
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.paths[RESOURCE].get.security).toEqual([{ bearer: [] }]);
      const ui = await request(app.getHttpServer()).get('/docs').redirects(1).expect(200);
      expect(ui.text).toContain('swagger-ui');
    } finally {
      await app.close();
    }
  });
});
