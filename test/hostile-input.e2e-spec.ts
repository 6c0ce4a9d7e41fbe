import { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { LostReasonModule } from '../lib';
import { testedAdapters } from './support/adapters';
import { CollectingLogger } from './support/collecting-logger';
import { describeEach, testedDatabases } from './support/databases';
import { API_KEY, auth, createHostApp, RESOURCE } from './support/host-app';
import { zstdCompress } from './support/zstd';

/**
 * Property test: arbitrary JSON values, depths and sizes for every parameter, and arbitrary whole
 * bodies in any content encoding and declared charset. Whatever is sent, the answer is a 2xx or a 4xx in the module's shape (never a 5xx),
 * nothing is logged at error level, and a refused request changes no row.
 */

const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env.FC_RUNS ?? 150);

/**
 * A parameter's value as JSON text: generated as text so that fast-check never walks (or prints)
 * a value thousands of levels deep.
 */
const deeplyNested = fc
  .record({ depth: fc.integer({ min: 50, max: 10_000 }), array: fc.boolean() })
  .map(({ depth, array }) => (array ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

/**
 * Many small objects, up to about 800 kB: within Fastify's default 1 MiB limit, so the module
 * sees them. (Past the limit, Fastify answers 413 while parsing; NestJS 10's Fastify adapter also
 * logs that as an error, which the module does not intercept: docs/installation.md, "Supported versions".)
 */
const wide = fc
  .integer({ min: 1, max: 60_000 })
  .map((count) => `[${Array.from({ length: count }, (_, i) => `{"k${i % 7}":${i}}`).join(',')}]`);

const hostileValue: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 700 }).map((value) => JSON.stringify(value)),
  fc.constantFrom('constructor', '__proto__', 'prototype', 'toString').map((key) => `{"${key}":{"${key}":1}}`),
  deeplyNested,
  wide,
);

/** Query strings as a client may send them: any text, repeated keys, bracket syntax. */
const hostileQuery = fc.dictionary(
  fc.constantFrom('limit', 'offset', 'starting_after', 'ending_before', 'limit[a]', 'offset[]', 'expand', '__proto__'),
  fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 })),
  { maxKeys: 4 },
);

const isValidReason = (text: string) => {
  const value: unknown = JSON.parse(text);
  return value === null || (typeof value === 'string' && [...value].length <= 500 && !/[\u0000\ufffd]/.test(value) && value.isWellFormed());
};

const matrix = testedDatabases().flatMap((db) => testedAdapters().map((adapter) => [db, adapter] as const));

describeEach(matrix)('hostile input', ([db, adapter]) => {
  let app: INestApplication;
  const logger = new CollectingLogger();
  const api = () => request(app.getHttpServer());
  const rows = async () => app.get(DataSource).query('SELECT id, lost_reason, updated_at FROM opportunity_lost_reason ORDER BY id');
  let kept: { id: string };

  beforeAll(async () => {
    app = await createHostApp({
      db,
      imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY] })],
      configure: (nest) => nest.useLogger(logger),
      adapter,
    });
    kept = (await api().post(RESOURCE).set(auth).send({ lost_reason: 'kept' }).expect(201)).body;
  });
  afterAll(() => app?.close());

  /** The answer is 2xx or a module-shaped 4xx, and nothing was logged as an error for it. */
  const expectNoFailure = (response: request.Response) => {
    expect(response.status).toBeLessThan(500);
    if (response.status >= 400) expect(response.body.error.type).toEqual(expect.any(String));
    const errors = logger.entries.filter(({ level }) => level === 'error' || level === 'fatal');
    logger.clear();
    expect(errors).toEqual([]);
  };

  it(`answers any lost_reason on POST and PATCH with 2xx or 400, logging no error (${numRuns} runs, seed ${seed})`, async () => {
    await fc.assert(
      fc.asyncProperty(hostileValue, fc.boolean(), async (value, patch) => {
        const before = await rows();
        const call = patch ? api().patch(`${RESOURCE}/${kept.id}`) : api().post(RESOURCE);
        const response = await call.set(auth).set('Content-Type', 'application/json').send(`{"lost_reason":${value}}`);
        expectNoFailure(response);
        if (isValidReason(value)) {
          expect(response.status).toBe(patch ? 200 : 201);
          if (patch) await api().patch(`${RESOURCE}/${kept.id}`).set(auth).send({ lost_reason: 'kept' }).expect(200);
          else await api().delete(`${RESOURCE}/${response.body.id}`).set(auth).expect(200);
        } else {
          // Bodies past the adapter's limit are a 413; every other refusal names the parameter.
          expect([400, 413]).toContain(response.status);
          // A "__proto__" key is refused as the body's (Fastify's parser refuses it), before any parameter is known.
          const parserRefusal = value.includes('"__proto__"');
          if (response.status === 400) expect(response.body.error.param).toBe(parserRefusal ? undefined : 'lost_reason');
          expect(await rows()).toEqual(before);
        }
      }),
      { numRuns, seed },
    );
  });

  it("answers a body holding a very long array (200,000 members, under Fastify's 1 MiB) with a 4xx, not a 500", async () => {
    const body = `{"lost_reason":[${'0,'.repeat(199_999)}0]}`;
    for (const call of [api().post(RESOURCE), api().patch(`${RESOURCE}/${kept.id}`)]) {
      const response = await call.set(auth).set('Content-Type', 'application/json').send(body);
      expectNoFailure(response);
      expect([400, 413]).toContain(response.status);
    }
  });

  it(`answers any JSON body with 2xx or 4xx, logging no error (${numRuns} runs, seed ${seed})`, async () => {
    // One hostile value per body at most, so the body stays within the adapter's limit.
    const keyed = fc
      .array(fc.tuple(fc.string({ maxLength: 12 }), hostileValue), { maxLength: 1 })
      .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`);
    // The same bytes sent in any encoding and with any declared charset, truncated or not.
    const wire = fc.record({
      encoding: fc.constantFrom('identity', 'gzip', 'deflate', 'br', 'zstd', 'x-unknown'),
      charset: fc.constantFrom(undefined, 'utf-8', 'UTF-8', 'iso-8859-1', 'utf-16le', ''),
      truncated: fc.boolean(),
    });
    // zstd is taken where Node's zlib has it (docs/api.md), else refused like x-unknown.
    const COMPRESS: Record<string, (bytes: Buffer) => Buffer> = {
      gzip: gzipSync,
      deflate: deflateSync,
      br: brotliCompressSync,
      ...(zstdCompress && { zstd: zstdCompress }),
    };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 5 }).map((body) => JSON.stringify(body)),
          keyed,
        ),
        wire,
        async (body, { encoding, charset, truncated }) => {
          const before = await rows();
          let bytes = COMPRESS[encoding]?.(Buffer.from(body)) ?? Buffer.from(body);
          if (truncated) bytes = bytes.subarray(0, Math.floor(bytes.length / 2));
          const type = charset === undefined ? 'application/json' : `application/json; charset=${charset}`;
          // serialize: sent as the bytes they are (superagent would JSON-encode a Buffer for application/json).
          const response = await api()
            .post(RESOURCE)
            .set(auth)
            .set('Content-Type', type)
            .set('Content-Encoding', encoding)
            .serialize(((raw: Buffer) => raw) as unknown as (raw: unknown) => string)
            .send(bytes);
          expectNoFailure(response);
          const refusedMedia = !(encoding === 'identity' || encoding in COMPRESS) || !['utf-8', undefined].includes(charset?.toLowerCase());
          if (refusedMedia && bytes.length > 0) expect(response.status).toBe(415);
          if (response.status === 201) await api().delete(`${RESOURCE}/${response.body.id}`).set(auth).expect(200);
          else expect(await rows()).toEqual(before);
        },
      ),
      { numRuns, seed },
    );
  });

  it(`answers any list query with 200 or 400, logging no error (${numRuns} runs, seed ${seed})`, async () => {
    await fc.assert(
      fc.asyncProperty(hostileQuery, async (query) => {
        const response = await api().get(RESOURCE).set(auth).query(query);
        expectNoFailure(response);
        expect([200, 400]).toContain(response.status);
      }),
      { numRuns, seed },
    );
  });
});
