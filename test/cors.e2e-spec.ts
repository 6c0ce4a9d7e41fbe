import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { SAMPLE_CORS } from '../sample/cors';
import { testedAdapters } from './support/adapters';
import { auth, createHostApp, RESOURCE } from './support/host-app';

const ORIGIN = 'https://crm.example';

/**
 * A browser calls the module from another origin only if the host enabled CORS: its preflight
 * (OPTIONS, without credentials) must reach the host's CORS handler, not the module's key check
 * or its 404 for unknown methods, and the answers must expose the module's headers.
 */
describe.each(testedAdapters())('CORS on a host that enables it (%s)', (adapter) => {
  describe.each([
    ['enableCors()', undefined],
    ["the sample's options", SAMPLE_CORS],
  ] as const)('with %s', (_name, options) => {
    let app: INestApplication;
    const api = () => request(app.getHttpServer());

    beforeAll(async () => {
      app = await createHostApp({ db: 'sqlite', adapter, configure: (host) => host.enableCors(options) });
    });
    afterAll(async () => {
      await app?.close();
    });

    it.each([
      ['POST', RESOURCE],
      ['GET', RESOURCE],
      ['PATCH', `${RESOURCE}/opportunity-lost-reason_3f0c9a1e5b7d4c2a8e6f1b3d5a7c9e0f`],
      ['DELETE', `${RESOURCE}/opportunity-lost-reason_3f0c9a1e5b7d4c2a8e6f1b3d5a7c9e0f`],
    ])('answers the preflight of a %s on %s with 204 and the CORS headers, without a key', async (method, path) => {
      const response = await api()
        .options(path)
        .set('Origin', ORIGIN)
        .set('Access-Control-Request-Method', method)
        .set('Access-Control-Request-Headers', 'authorization,content-type,idempotency-key')
        .expect(204);
      expect(response.headers['access-control-allow-origin']).toBe(options ? ORIGIN : '*');
      // Fastify's CORS plugin allows only GET, HEAD and POST unless told the methods: the sample tells.
      if (options) {
        expect(response.headers['access-control-allow-methods']).toContain(method);
        expect(response.headers['access-control-allow-headers']?.toLowerCase()).toContain('idempotency-key');
        expect(response.headers['access-control-max-age']).toBe('600');
      }
      // The host's CORS handler answered, not the module.
      expect(response.headers['request-id']).toBeUndefined();
      expect(response.text).toBe('');
    });

    it('exposes Request-Id to a cross-origin GET with a key', async () => {
      const response = await api().get(RESOURCE).set(auth).set('Origin', ORIGIN).expect(200);
      expect(response.headers['access-control-allow-origin']).toBe(options ? ORIGIN : '*');
      expect(response.headers['request-id']).toMatch(/^req_/);
      if (options) expect(response.headers['access-control-expose-headers']).toContain('Request-Id');
    });

    it("keeps the CORS headers on the module's errors, so the browser can read them", async () => {
      const response = await api().get(RESOURCE).set('Origin', ORIGIN).expect(401);
      expect(response.headers['access-control-allow-origin']).toBe(options ? ORIGIN : '*');
      expect(response.body.error).toMatchObject({ type: 'authentication_error' });
      if (options) expect(response.headers['access-control-expose-headers']).toContain('Request-Id');
    });
  });
});

describe.each(testedAdapters())('a preflight on a host without CORS (%s)', (adapter) => {
  it('is answered by the module, as any request without a key: 401', async () => {
    const app = await createHostApp({ db: 'sqlite', adapter });
    try {
      const response = await request(app.getHttpServer())
        .options(RESOURCE)
        .set('Origin', ORIGIN)
        .set('Access-Control-Request-Method', 'GET')
        .expect(401);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.body.error).toMatchObject({ type: 'authentication_error' });
    } finally {
      await app.close();
    }
  });
});
