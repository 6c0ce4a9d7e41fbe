/**
 * A host without `@nestjs/swagger`: requiring it fails as it would where it is not installed.
 * jest hoists this above the imports, so the module's files load in that world.
 */
jest.mock('@nestjs/swagger', () => {
  throw Object.assign(new Error("Cannot find module '@nestjs/swagger'"), { code: 'MODULE_NOT_FOUND' });
});

import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { CreateLostReasonDto, LostReasonError, LostReasonObject } from '../lib';
import { LostReasonControllerBase } from '../lib/http/lost-reason.controller';
import { LOST_REASON_OPENAPI_ENABLED } from '../lib/common/swagger.loader';
import { testedAdapters } from './support/adapters';
import { auth, createHostApp, RESOURCE } from './support/host-app';

describe('without @nestjs/swagger installed', () => {
  it('cannot load @nestjs/swagger here (the premise of this suite)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(() => require('@nestjs/swagger')).toThrow("Cannot find module '@nestjs/swagger'");
  });

  it('falls back to no-op decorators that record no OpenAPI metadata', () => {
    expect(LOST_REASON_OPENAPI_ENABLED).toBe(false);
    for (const dto of [CreateLostReasonDto, LostReasonObject, LostReasonError]) {
      expect(Reflect.getMetadataKeys(dto.prototype).filter((key) => String(key).startsWith('swagger/'))).toEqual([]);
    }
    const handlers = ['create', 'list', 'retrieve', 'update', 'delete'] as const;
    for (const handler of handlers) {
      const keys = Reflect.getMetadataKeys(LostReasonControllerBase.prototype[handler]);
      expect(keys.filter((key) => String(key).startsWith('swagger/'))).toEqual([]);
    }
  });

  describe.each(testedAdapters())('on %s', (adapter) => {
    let app: INestApplication;
    const api = () => request(app.getHttpServer());

    beforeAll(async () => {
      app = await createHostApp({ db: 'sqlite', adapter });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('serves the resource: create, list, update, delete, errors', async () => {
      const { body: created } = await api().post(RESOURCE).set(auth).send({ lost_reason: 'Price too high' }).expect(201);
      expect(created).toMatchObject({ id: expect.stringMatching(/^opportunity-lost-reason_/), lost_reason: 'Price too high' });

      const { body: list } = await api().get(`${RESOURCE}?limit=10`).set(auth).expect(200);
      expect(list).toEqual({ data: [created], has_more: false, total: 1 });

      const item = `${RESOURCE}/${created.id}`;
      const { body: updated } = await api().patch(item).set(auth).send({ lost_reason: null }).expect(200);
      expect(updated).toEqual({ ...created, updated_at: expect.any(String), lost_reason: null });
      const { body: deleted } = await api().delete(item).set(auth).expect(200);
      expect(deleted).toEqual({ id: created.id, deleted: true });

      const { body: invalid } = await api().get(`${RESOURCE}?limit=0`).set(auth).expect(400);
      expect(invalid.error).toMatchObject({ type: 'invalid_request_error', param: 'limit' });
      await api().get(item).set(auth).expect(404);
      await api().get(RESOURCE).expect(401);
    });
  });
});
