import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import request from 'supertest';
import ts from 'typescript';
import { AdapterName, testedAdapters } from './support/adapters';
import { AppProcess, buildSample, freePort, startSample } from './support/app-process';
import { DATABASES, DatabaseName, describeEach, dropModuleSchema, testedDatabases } from './support/databases';
import { API_KEY, auth, RESOURCE } from './support/host-app';

/**
 * What a client generated from the document sees, with the tools such clients are built with:
 * Redocly's recommended rules, types from openapi-typescript, a program calling the API through
 * openapi-fetch type-checked by `tsc --strict` and run against the real app, and Ajv checking
 * the app's real answers (and refusals) against the document's own schemas.
 */

const ROOT = join(__dirname, '..');
const NODE_MODULES = join(ROOT, 'node_modules');

/** Runs `node args…` in `cwd` without blocking this process, which serves the app the program calls. */
async function node(args: string[], cwd: string): Promise<string> {
  try {
    return (await promisify(execFile)(process.execPath, args, { cwd, encoding: 'utf8' })).stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
const ITEM = `${RESOURCE}/{id}`;

type Schema = Record<string, any>;

/**
 * The built sample (what `npm start` runs: its CORS, its document at /docs-json) on a database
 * and an adapter, with its base URL. It migrates its schema itself, from none.
 */
async function startSampleOn(db: DatabaseName, adapter: AdapterName): Promise<{ sample: AppProcess; baseUrl: string }> {
  await dropModuleSchema(db);
  const port = await freePort();
  const url = db === 'sqlite' ? 'sqlite::memory:' : (DATABASES[db] as { url: string }).url;
  const sample = await startSample({ PORT: String(port), DATABASE_URL: url, API_KEYS: API_KEY, ADAPTER: adapter });
  return { sample, baseUrl: `http://localhost:${port}` };
}

/**
 * The README's tour ("A tour with curl") through openapi-fetch, typed by the generated `paths`.
 * The annotated constants are type-level checks: they compile only if the document gives the
 * fields those types (`deleted: true`, `code` one of the module's codes).
 */
const CLIENT_PROGRAM = `
import createClient from 'openapi-fetch';
import type { components, paths } from './api.js';

type LostReason = components['schemas']['LostReasonObject'];
type ErrorCode = 'resource_missing' | 'resource_in_use' | 'resource_already_exists' | 'idempotency_key_in_use';

const [baseUrl, apiKey] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl, headers: { Authorization: \`Bearer \${apiKey}\` } });
const RESOURCE = '${RESOURCE}';
const ITEM = '${ITEM}';
const requestIds: Array<string | null> = [];

/** The body of a success, or a thrown error with the answer. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  requestIds.push(result.response.headers.get('Request-Id'));
  if (result.data === undefined) throw new Error(\`\${result.response.status}: \${JSON.stringify(result.error)}\`);
  return result.data;
}

const created: LostReason = ok(await client.POST(RESOURCE, { body: { lost_reason: 'Price too high' } }));
const empty: LostReason = ok(await client.POST(RESOURCE));
const id = empty.id;
const retrieved = ok(await client.GET(ITEM, { params: { path: { id } } }));
const updated = ok(await client.PATCH(ITEM, { params: { path: { id } }, body: { lost_reason: 'Went with a competitor' } }));
const list = ok(await client.GET(RESOURCE, { params: { query: { limit: 20, offset: 0 } } }));
const deleted = ok(await client.DELETE(ITEM, { params: { path: { id } } }));
const confirmed: true = deleted.deleted;

const tooMany = await client.GET(RESOURCE, { params: { query: { limit: 500 } } });
requestIds.push(tooMany.response.headers.get('Request-Id'));
const code: ErrorCode | undefined = tooMany.error?.error.code;
const missing = await client.GET(ITEM, { params: { path: { id } } });
const missingCode: ErrorCode | undefined = missing.error?.error.code;

console.log(
  JSON.stringify({
    created,
    empty,
    retrieved,
    updated,
    list,
    deleted,
    confirmed,
    tooMany: { status: tooMany.response.status, error: tooMany.error, code },
    missing: { status: missing.response.status, code: missingCode },
    requestIds,
  }),
);
`;

let document: Schema;
/** The client program, type-checked and compiled, with the generated types beside it. */
let clientDir: string;

beforeAll(async () => {
  buildSample();
  const { sample, baseUrl } = await startSampleOn('sqlite', 'express');
  try {
    document = (await request(baseUrl).get('/docs-json').expect(200)).body;
    clientDir = mkdtempSync(join(tmpdir(), 'lost-reason-client-'));
    // The program finds openapi-fetch (and @types/node) where the repo has them.
    symlinkSync(NODE_MODULES, join(clientDir, 'node_modules'), 'dir');
    writeFileSync(join(clientDir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(clientDir, 'client.ts'), CLIENT_PROGRAM);
    // Generated as a user would, by the CLI from the served document, under Redocly's
    // recommended rules (an error there, such as "servers": [], aborts the generation).
    writeFileSync(join(clientDir, 'redocly.yaml'), 'extends:\n  - recommended\n');
    const cli = join(NODE_MODULES, 'openapi-typescript', 'bin', 'cli.js');
    await node([cli, `${baseUrl}/docs-json`, '--redocly', 'redocly.yaml', '--output', 'api.d.ts'], clientDir);
  } finally {
    await sample.stop();
  }
  const tsc = join(NODE_MODULES, 'typescript', 'bin', 'tsc');
  const options = [
    '--strict',
    '--noEmit',
    '--target',
    'es2022',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--types',
    'node',
  ];
  await node([tsc, ...options, 'client.ts'], clientDir);
  // Checked above; now only stripped of its types to run.
  const { outputText } = ts.transpileModule(CLIENT_PROGRAM, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  writeFileSync(join(clientDir, 'client.js'), outputText);
}, 120_000);

afterAll(() => {
  if (clientDir) rmSync(clientDir, { recursive: true, force: true });
});

describe("the sample's document, as tools read it", () => {
  it("passes Redocly's recommended rules with no error", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: 'openapi.json', config });
    expect(problems.filter(({ severity }) => severity === 'error').map(({ ruleId, message }) => `${ruleId}: ${message}`)).toEqual([]);
  });

  it('names its server', () => {
    expect(document.servers).toEqual([{ url: '/', description: 'This server' }]);
  });
});

/** Ajv validators of the document's schemas: unicode patterns (Ajv's default), formats, OpenAPI 3.0's `nullable`. */
function validatorsOf(doc: Schema) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // Refs inside the document's schemas read `#/components/schemas/…`: the document is the root.
  ajv.addSchema({ ...doc, $id: 'openapi.json' });
  const compile = (schema: Schema): ValidateFunction =>
    ajv.compile(schema.$ref ? { $ref: `openapi.json${schema.$ref}` } : { ...schema, $id: undefined });
  const operation = (path: string, method: string) => doc.paths[path][method];
  return {
    requestBody: (path: string, method: string) => compile(operation(path, method).requestBody.content['application/json'].schema),
    header: (path: string, method: string, name: string) =>
      compile(operation(path, method).parameters.find((param: Schema) => param.in === 'header' && param.name === name).schema),
    /** Why an answer does not match the document: its status, body and headers. */
    problemsOf(path: string, method: string, answer: request.Response): string[] {
      const declared = operation(path, method).responses[answer.status];
      if (!declared) return [`status ${answer.status} is not declared`];
      const problems: string[] = [];
      const body = compile(declared.content['application/json'].schema);
      if (!body(answer.body)) problems.push(`body: ${ajv.errorsText(body.errors)}`);
      for (const [name, header] of Object.entries<Schema>(declared.headers ?? {})) {
        const value = answer.headers[name.toLowerCase()];
        if (value === undefined) {
          if (header.required) problems.push(`header ${name} is missing`);
          continue;
        }
        const schema = header.schema.type === 'integer' ? { ...header.schema, type: 'string', pattern: '^[0-9]+$' } : header.schema;
        if (!compile(schema)(value)) problems.push(`header ${name}: ${JSON.stringify(value)}`);
      }
      return problems;
    },
  };
}

const cases = testedDatabases().flatMap((db) => testedAdapters().map((adapter) => [db, adapter] as const));

describeEach(cases)('a generated client against the sample', ([db, adapter]) => {
  let sample: AppProcess | undefined;
  let baseUrl: string;
  let validators: ReturnType<typeof validatorsOf>;

  beforeAll(async () => {
    ({ sample, baseUrl } = await startSampleOn(db, adapter));
    validators = validatorsOf(document);
  });
  afterAll(async () => {
    await sample?.stop();
    await dropModuleSchema(db);
  });

  it('serves the same document', async () => {
    expect((await request(baseUrl).get('/docs-json').expect(200)).body).toEqual(document);
  });

  it('lets a browser on another origin call it: preflights pass without a key, Request-Id is exposed', async () => {
    const origin = 'https://crm.example';
    const preflight = await request(baseUrl)
      .options(`${RESOURCE}/opportunity-lost-reason_3f0c9a1e5b7d4c2a8e6f1b3d5a7c9e0f`)
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'PATCH')
      .set('Access-Control-Request-Headers', 'authorization,content-type')
      .expect(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
    const answer = await request(baseUrl).get(RESOURCE).set(auth).set('Origin', origin).expect(200);
    expect(answer.headers['access-control-allow-origin']).toBe(origin);
    expect(answer.headers['access-control-expose-headers']).toContain('Request-Id');
  });

  it("runs the README's tour through openapi-fetch, typed by openapi-typescript", async () => {
    const tour = JSON.parse(await node(['client.js', baseUrl, API_KEY], clientDir));
    expect(tour.created).toMatchObject({
      id: expect.stringMatching(/^opportunity-lost-reason_[0-9a-f]{32}$/),
      lost_reason: 'Price too high',
    });
    expect(tour.empty.lost_reason).toBeNull();
    expect(tour.retrieved).toEqual(tour.empty);
    expect(tour.updated).toMatchObject({ id: tour.empty.id, lost_reason: 'Went with a competitor' });
    expect(tour.list).toEqual({ data: [tour.updated, tour.created], has_more: false, total: 2 });
    expect(tour.deleted).toEqual({ id: tour.empty.id, deleted: true });
    expect(tour.confirmed).toBe(true);
    expect(tour.tooMany).toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error', param: 'limit' } } });
    expect(tour.missing).toEqual({ status: 404, code: 'resource_missing' });
    expect(tour.requestIds).toHaveLength(7);
    for (const id of tour.requestIds) expect(id).toMatch(/^req_[0-9A-Za-z]{20}$/);
  });

  it("answers as the document's schemas say, successes and errors, bodies and headers (Ajv)", async () => {
    const api = () => request(baseUrl);
    const answers: Array<[string, string, request.Response]> = [];
    const created = await api().post(RESOURCE).set(auth).send({ lost_reason: 'Price too high 😀' });
    answers.push([RESOURCE, 'post', created], [RESOURCE, 'post', await api().post(RESOURCE).set(auth)]);
    const replayed = await api().post(RESOURCE).set(auth).set('Idempotency-Key', 'k-1').send({});
    answers.push(
      [RESOURCE, 'post', replayed],
      [RESOURCE, 'post', await api().post(RESOURCE).set(auth).set('Idempotency-Key', 'k-1').send({})],
    );
    const item = `${RESOURCE}/${created.body.id}`;
    answers.push(
      [ITEM, 'get', await api().get(item).set(auth)],
      [ITEM, 'patch', await api().patch(item).set(auth).send({ lost_reason: null })],
      [RESOURCE, 'get', await api().get(`${RESOURCE}?limit=1`).set(auth)],
      [RESOURCE, 'get', await api().get(`${RESOURCE}?starting_after=${created.body.id}`).set(auth)],
      [ITEM, 'delete', await api().delete(item).set(auth)],
      [ITEM, 'get', await api().get(item).set(auth)],
      [ITEM, 'delete', await api().delete(item).set(auth)],
      [RESOURCE, 'get', await api().get(`${RESOURCE}?limit=500`).set(auth)],
      [RESOURCE, 'get', await api().get(`${RESOURCE}?starting_after=${created.body.id}`).set(auth)],
      [RESOURCE, 'get', await api().get(RESOURCE)],
      [RESOURCE, 'post', await api().post(RESOURCE).set(auth).set('Content-Type', 'text/plain').send('hello')],
      [
        RESOURCE,
        'post',
        await api()
          .post(RESOURCE)
          .set(auth)
          .send({ lost_reason: 'x'.repeat(501) }),
      ],
    );
    expect(answers.map(([, , answer]) => answer.status)).toEqual([
      201, 201, 201, 201, 200, 200, 200, 200, 200, 404, 404, 400, 400, 401, 415, 400,
    ]);
    expect(replayed.headers['idempotent-replayed']).toBeUndefined();
    expect(answers[3][2].headers['idempotent-replayed']).toBe('true');
    for (const [path, method, answer] of answers) {
      expect({ [`${method.toUpperCase()} ${answer.status}`]: validators.problemsOf(path, method, answer) }).toEqual({
        [`${method.toUpperCase()} ${answer.status}`]: [],
      });
    }
  });

  it.each([
    ['NUL', { lost_reason: 'a\u0000b' }, 'lost_reason'],
    ['U+FFFD', { lost_reason: 'a\ufffdb' }, 'lost_reason'],
    ['a lone surrogate', { lost_reason: 'a\ud800b' }, 'lost_reason'],
    ['501 code points', { lost_reason: '😀'.repeat(501) }, 'lost_reason'],
    ['an unknown property', { lost_reason: 'ok', colour: 'red' }, 'colour'],
    ['a number', { lost_reason: 42 }, 'lost_reason'],
  ])('refuses %s in a body, as the request schemas do', async (_name, body, param) => {
    for (const [path, method] of [
      [RESOURCE, 'post'],
      [ITEM, 'patch'],
    ] as const) {
      expect(validators.requestBody(path, method)(body)).toBe(false);
    }
    const { body: created } = await request(baseUrl).post(RESOURCE).set(auth).expect(201);
    const refusals = [
      await request(baseUrl).post(RESOURCE).set(auth).send(body),
      await request(baseUrl).patch(`${RESOURCE}/${created.id}`).set(auth).send(body),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(400);
      expect(refusal.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });

  it('accepts, in a body, what the server accepts', async () => {
    for (const body of [{}, { lost_reason: null }, { lost_reason: 'Price too high 😀 é' }, { lost_reason: '😀'.repeat(500) }]) {
      expect(validators.requestBody(RESOURCE, 'post')(body)).toBe(true);
      await request(baseUrl).post(RESOURCE).set(auth).send(body).expect(201);
    }
  });

  it('refuses a non-ASCII Idempotency-Key, as its parameter schema does', async () => {
    const key = validators.header(RESOURCE, 'post', 'Idempotency-Key');
    expect(key('3f0c9a1e-5b7d-4c2a-8e6f-1b3d5a7c9e0f')).toBe(true);
    expect(key('clé')).toBe(false);
    expect(key('k'.repeat(256))).toBe(false);
    // Node sends the Latin-1 byte as it is: the server sees "clé".
    const refused = await request(baseUrl).post(RESOURCE).set(auth).set('Idempotency-Key', 'clé').send({}).expect(400);
    expect(refused.body.error).toMatchObject({ param: 'Idempotency-Key' });
    await request(baseUrl).post(RESOURCE).set(auth).set('Idempotency-Key', 'k'.repeat(256)).send({}).expect(400);
  });
});
