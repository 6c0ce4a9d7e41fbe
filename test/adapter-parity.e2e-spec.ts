import { INestApplication } from '@nestjs/common';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { LostReasonModule } from '../lib';
import { AdapterName, testedAdapters } from './support/adapters';
import { API_KEY, createHostApp, RESOURCE } from './support/host-app';

/**
 * One answer on Express and on Fastify for requests each adapter treated its own way: the same
 * status and the same error message, sent byte for byte (`node:net`: supertest would normalise
 * the request line, the method or the body).
 */

interface RawAnswer {
  status: number;
  message?: string;
  param?: string;
}

/**
 * Sends `head` (request line and headers, CRLF-separated, without the blank line) and `body`,
 * and reads the answer until the server closes the connection (`Connection: close`; the client
 * does not half-close, which Node's server takes as the end of the request).
 */
function send(port: number, head: string, body: Buffer | string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const separator = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      let payload = text.slice(separator + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(text.slice(0, separator))) payload = payload.replace(/(?:^|\r\n)[0-9a-f]+\r\n/gi, '');
      let error: { message?: string; param?: string } | undefined;
      try {
        error = (JSON.parse(payload) as { error?: typeof error }).error;
      } catch {
        error = undefined;
      }
      resolve({ status, message: error?.message, ...(error?.param !== undefined && { param: error.param }) });
    });
    socket.write(`${head}\r\nHost: localhost\r\nAuthorization: Bearer ${API_KEY}\r\nConnection: close\r\n\r\n`);
    socket.write(body);
  });
}

/** A JSON body with its headers (and `extra` ones). */
const json = (body: string | Buffer, extra = ''): { headers: string; body: string | Buffer } => ({
  headers: `\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}${extra}`,
  body,
});

const NO_BODY_ON_GET = { status: 400, message: 'A GET request takes no body: send its parameters in the query string.' };
const NOT_AN_OBJECT = { status: 400, message: 'The request parameters must be a JSON object.' };
const INVALID_JSON = {
  status: 400,
  message: 'The request body is not valid JSON, or has a "__proto__" key or a "constructor" key holding a "prototype" (refused as unsafe).',
};
const NOT_GZIP = { status: 400, message: 'The body is not valid gzip data.' };
const unrecognizedObject = { status: 404, message: "No such opportunity-lost-reason: 'lr_x'", param: 'id' };
const unrecognized = (method: string, path: string) => ({ status: 404, message: `Unrecognized request URL (${method}: ${path}).` });

/** Each case: its name, the request line, what is sent with it, and the one answer expected of both adapters. */
const CASES: Array<[string, string, { headers: string; body: string | Buffer }, RawAnswer]> = [
  ['a GET with a body that is not JSON', `GET ${RESOURCE} HTTP/1.1`, json('{bad'), NO_BODY_ON_GET],
  ['a GET with a JSON body', `GET ${RESOURCE} HTTP/1.1`, json('{"limit":1}'), NO_BODY_ON_GET],
  ['a GET with an empty body', `GET ${RESOURCE} HTTP/1.1`, json(''), { status: 200 }],
  ['a DELETE with a body that is not JSON', `DELETE ${RESOURCE}/lr_x HTTP/1.1`, json('{bad'), INVALID_JSON],
  ['a DELETE with a JSON body', `DELETE ${RESOURCE}/lr_x HTTP/1.1`, json('{}'), unrecognizedObject],
  [
    'a fragment in the request target',
    `GET ${RESOURCE}#frag HTTP/1.1`,
    { headers: '', body: '' },
    { status: 400, message: 'The request target must not contain a fragment (#).' },
  ],
  ['an unknown method (QUERY)', `QUERY ${RESOURCE} HTTP/1.1`, { headers: '', body: '' }, unrecognized('QUERY', RESOURCE)],
  [
    'an unknown method on an object (QUERY)',
    `QUERY ${RESOURCE}/lr_x HTTP/1.1`,
    { headers: '', body: '' },
    unrecognized('QUERY', `${RESOURCE}/lr_x`),
  ],
  ['a body that is not JSON', `POST ${RESOURCE} HTTP/1.1`, json('{bad'), INVALID_JSON],
  ['a number as the body', `POST ${RESOURCE} HTTP/1.1`, json('1'), NOT_AN_OBJECT],
  ['a string as the body', `POST ${RESOURCE} HTTP/1.1`, json('"x"'), NOT_AN_OBJECT],
  ['null as the body', `POST ${RESOURCE} HTTP/1.1`, json('null'), NOT_AN_OBJECT],
  ['true as the body', `POST ${RESOURCE} HTTP/1.1`, json('true'), NOT_AN_OBJECT],
  ['an array as the body', `POST ${RESOURCE} HTTP/1.1`, json('[]'), NOT_AN_OBJECT],
  ['a __proto__ key', `POST ${RESOURCE} HTTP/1.1`, json('{"__proto__":{"lost_reason":"x"}}'), INVALID_JSON],
  ['a __proto__ key beside lost_reason', `POST ${RESOURCE} HTTP/1.1`, json('{"lost_reason":"x","__proto__":{}}'), INVALID_JSON],
  ['a __proto__ key inside lost_reason', `POST ${RESOURCE} HTTP/1.1`, json('{"lost_reason":{"__proto__":{}}}'), INVALID_JSON],
  ['a constructor.prototype key', `POST ${RESOURCE} HTTP/1.1`, json('{"constructor":{"prototype":{"x":1}}}'), INVALID_JSON],
  ['bytes that are not gzip', `POST ${RESOURCE} HTTP/1.1`, json('not gzip', '\r\nContent-Encoding: gzip'), NOT_GZIP],
  [
    'truncated gzip',
    `POST ${RESOURCE} HTTP/1.1`,
    json(gzipSync('{"lost_reason":"x"}').subarray(0, 12), '\r\nContent-Encoding: gzip'),
    NOT_GZIP,
  ],
];

describe('Express and Fastify answer alike (sqlite)', () => {
  const apps = new Map<AdapterName, INestApplication>();
  const ports = new Map<AdapterName, number>();

  beforeAll(async () => {
    for (const adapter of testedAdapters()) {
      const app = await createHostApp({ db: 'sqlite', adapter, imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY] })] });
      await app.listen(0, '127.0.0.1');
      apps.set(adapter, app);
      ports.set(adapter, (app.getHttpServer().address() as { port: number }).port);
    }
  });
  afterAll(() => Promise.all([...apps.values()].map((app) => app.close())));

  it.each(CASES)('%s', async (_name, line, { headers, body }, expected) => {
    for (const [adapter, port] of ports) {
      expect({ adapter, ...(await send(port, `${line}${headers}`, body)) }).toEqual({ adapter, ...expected });
    }
  });
});
