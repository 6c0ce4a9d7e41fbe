import { INestApplication } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { DataSource } from 'typeorm';
import { OLDEST_LINE_QUIRKS, testedAdapters } from './support/adapters';
import { API_KEY, createHostApp, RESOURCE } from './support/host-app';
import { zstdCompress, zstdInflatesNothing } from './support/zstd';

/**
 * Bytes on the wire, one behaviour on Express and Fastify: UTF-8 JSON only (invalid UTF-8 and
 * other charsets refused), gzip/deflate/br bodies inflated (zstd too where Node has it) and
 * unknown encodings refused, an empty body with chunked transfer read as no parameters, and no
 * trailing-slash alias.
 */

interface Answer {
  status: number;
  body: any;
}

describe.each(testedAdapters())('request bytes and encodings (sqlite, %s)', (adapter) => {
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    app = await createHostApp({ db: 'sqlite', adapter });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(() => app?.close());
  beforeEach(() => app.get(DataSource).query('DELETE FROM opportunity_lost_reason'));

  const count = async () => Number((await app.get(DataSource).query('SELECT COUNT(*) AS n FROM opportunity_lost_reason'))[0].n);

  /** A raw request: `chunks` written one by one (chunked unless a content-length is given). */
  function send(method: string, path: string, headers: Record<string, string>, chunks: Buffer[] = []): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method, path, headers: { Authorization: `Bearer ${API_KEY}`, ...headers } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('error', reject);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });
  }
  const json = { 'Content-Type': 'application/json' };

  it('refuses invalid UTF-8 with a 400 naming the parameter, and stores nothing', async () => {
    const body = Buffer.concat([Buffer.from('{"lost_reason":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const answer = await send('POST', RESOURCE, { ...json, 'Content-Length': String(body.length) }, [body]);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', param: 'lost_reason' });
    expect(await count()).toBe(0);
  });

  it('takes UTF-8 with or without a charset parameter, and refuses other charsets with 415', async () => {
    const body = Buffer.from('{"lost_reason":"café"}');
    for (const type of ['application/json', 'application/json; charset=utf-8', 'application/json; charset="UTF-8"']) {
      expect((await send('POST', RESOURCE, { 'Content-Type': type, 'Content-Length': String(body.length) }, [body])).status).toBe(201);
    }
    const latin1 = Buffer.from('{"lost_reason":"café"}', 'latin1');
    const utf16 = Buffer.from('{"lost_reason":"café"}', 'utf16le');
    for (const [type, bytes] of [
      ['application/json; charset=iso-8859-1', latin1],
      ['application/json; charset=utf-16le', utf16],
    ] as const) {
      const answer = await send('POST', RESOURCE, { 'Content-Type': type, 'Content-Length': String(bytes.length) }, [bytes]);
      expect({ type, status: answer.status }).toEqual({ type, status: 415 });
      expect(answer.body.error.type).toBe('invalid_request_error');
    }
    expect(await count()).toBe(3);
  });

  it('inflates gzip, deflate and br bodies, and refuses an unknown Content-Encoding with 415', async () => {
    const plain = Buffer.from('{"lost_reason":"compressed"}');
    // Express 4's body parser (NestJS 10) has no brotli: a 415 there, as for any unknown encoding.
    const brotli = adapter === 'fastify' || OLDEST_LINE_QUIRKS.expressBrotli();
    for (const [encoding, bytes] of [
      ['gzip', gzipSync(plain)],
      ['deflate', deflateSync(plain)],
      ['br', brotliCompressSync(plain)],
    ] as const) {
      const answer = await send('POST', RESOURCE, { ...json, 'Content-Encoding': encoding, 'Content-Length': String(bytes.length) }, [
        bytes,
      ]);
      const expected = encoding === 'br' && !brotli ? { status: 415, lost_reason: undefined } : { status: 201, lost_reason: 'compressed' };
      expect({ encoding, status: answer.status, lost_reason: answer.body.lost_reason }).toEqual({ encoding, ...expected });
    }
    const answer = await send('POST', RESOURCE, { ...json, 'Content-Encoding': 'x-unknown', 'Content-Length': String(plain.length) }, [
      plain,
    ]);
    expect(answer.status).toBe(415);
    expect(answer.body.error.type).toBe('invalid_request_error');
    const corrupt = await send('POST', RESOURCE, { ...json, 'Content-Encoding': 'gzip', 'Content-Length': String(plain.length) }, [plain]);
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.error.type).toBe('invalid_request_error');
    expect(await count()).toBe(brotli ? 3 : 2);
  });

  it("takes zstd bodies on both adapters exactly where Node's zlib has zstd (22.15+), else refuses them with 415", async () => {
    const plain = Buffer.from('{"lost_reason":"zstd"}');
    // Express 4's body parser (NestJS 10) has no zstd, as it has no brotli.
    const zstd = zstdCompress !== undefined && (adapter === 'fastify' || OLDEST_LINE_QUIRKS.expressBrotli());
    const refused = { status: 415, body: { error: { type: 'invalid_request_error' } } };
    const headers = { ...json, 'Content-Encoding': 'zstd' };
    const bytes = zstdCompress?.(plain) ?? plain;
    const answer = await send('POST', RESOURCE, { ...headers, 'Content-Length': String(bytes.length) }, [bytes]);
    expect(answer).toMatchObject(zstd ? { status: 201, body: { lost_reason: 'zstd' } } : refused);
    // Bytes that are not zstd: a 400 where zstd is taken.
    const notZstd = { status: 400, body: { error: { type: 'invalid_request_error' } } };
    const corrupt = await send('POST', RESOURCE, { ...headers, 'Content-Length': String(plain.length) }, [plain]);
    expect(corrupt).toMatchObject(zstd ? notZstd : refused);
    // An announced but empty body: what zlib says of nothing, on both adapters (Express's parser
    // asks it): no parameters on Node 22, whose zstd inflates it to nothing, a 400 on 24 and 26.
    const nothing = zstd && zstdInflatesNothing();
    const empty = await send('POST', RESOURCE, { ...headers, 'Content-Length': '0' }, []);
    expect(empty).toMatchObject(nothing ? { status: 201, body: { lost_reason: null } } : zstd ? notZstd : refused);
    expect(await count()).toBe(zstd ? (nothing ? 2 : 1) : 0);
  });

  it('reads a compressed body that inflates to nothing as no parameters, like an empty one', async () => {
    for (const [encoding, bytes] of [
      ['gzip', gzipSync(Buffer.alloc(0))],
      ['deflate', deflateSync(Buffer.alloc(0))],
    ] as const) {
      const answer = await send('POST', RESOURCE, { ...json, 'Content-Encoding': encoding, 'Content-Length': String(bytes.length) }, [
        bytes,
      ]);
      expect({ encoding, status: answer.status, lost_reason: answer.body.lost_reason }).toEqual({
        encoding,
        status: 201,
        lost_reason: null,
      });
    }
  });

  it('looks at the encoding and charset only of a request that announces a body, on both adapters', async () => {
    // An announced but empty compressed body is not valid compressed data, on both.
    expect((await send('POST', RESOURCE, { ...json, 'Content-Encoding': 'gzip', 'Content-Length': '0' }, [])).status).toBe(400);
    const empty = await send('POST', RESOURCE, json, []);
    expect(empty.status).toBe(201);
    const bodyless: Array<Record<string, string>> = [
      { 'Content-Encoding': 'gzip' },
      { 'Content-Encoding': 'zstd' },
      { 'Content-Type': 'application/json; charset=iso-8859-1' },
    ];
    for (const headers of bodyless) {
      expect({ headers, status: (await send('GET', RESOURCE, headers)).status }).toEqual({ headers, status: 200 });
      expect({ headers, status: (await send('DELETE', `${RESOURCE}/${empty.body.id}`, headers)).status }).toEqual({
        headers,
        status: expect.any(Number),
      });
    }
  });

  it('refuses a compressed body that inflates past the body limit with 413', async () => {
    // 64 MiB of zeros in 64 kB: a bomb, whatever the adapter's limit (100 kB on Express, 1 MiB on
    // Fastify). gzip, which every line's parsers take (Express 4 has no brotli).
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 1 });
    const answer = await send('POST', RESOURCE, { ...json, 'Content-Encoding': 'gzip', 'Content-Length': String(bomb.length) }, [bomb]);
    expect(answer.status).toBe(413);
    expect(answer.body.error.type).toBe('invalid_request_error');
    expect(await count()).toBe(0);
  });

  it('reads an empty chunked JSON body as no parameters, like an empty one with a length', async () => {
    const chunked = await send('POST', RESOURCE, { ...json, 'Transfer-Encoding': 'chunked' }, []);
    expect(chunked.status).toBe(201);
    expect(chunked.body.lost_reason).toBeNull();
    const patched = await send('PATCH', `${RESOURCE}/${chunked.body.id}`, { ...json, 'Transfer-Encoding': 'chunked' }, []);
    expect(patched.status).toBe(200);
  });

  it("has no trailing-slash alias: the collection and an object with a trailing slash are a 404 in the module's shape", async () => {
    const created = await send('POST', RESOURCE, json, [Buffer.from('{}')]);
    for (const path of [`${RESOURCE}/`, `${RESOURCE}/${created.body.id}/`]) {
      const answer = await send('GET', path, {});
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      expect(answer.body.error.type).toBe('invalid_request_error');
    }
  });
});
