import { INestApplication, Module } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import request from 'supertest';
import { LostReasonExceptionFilter, LostReasonModule, REQUEST_ID_PATTERN } from '../lib';
import { HostRoutesWithModuleErrorsModule } from './fixtures/host-routes-with-module-errors.module';
import { testedAdapters } from './support/adapters';
import { CollectingLogger } from './support/collecting-logger';
import { apiErrorBody, MISSING_ID } from './support/contract';
import { API_KEY, createHostApp } from './support/host-app';

/** The app-wide binding through Nest's injector, as a host's AppModule writes it. */
@Module({ providers: [{ provide: APP_FILTER, useClass: LostReasonExceptionFilter }] })
class AppFilterModule {}

/** Bound per controller, with `useGlobalFilters` in main.ts, or with `APP_FILTER` in a module. */
type Binding = 'per controller' | 'useGlobalFilters' | 'APP_FILTER';
const BINDINGS: Binding[] = ['per controller', 'useGlobalFilters', 'APP_FILTER'];
const cases = testedAdapters().flatMap((adapter) => BINDINGS.map((binding) => [adapter, binding] as const));

/** Nest's own answer to `new BadRequestException('Nest says no')`. */
const NEST_BAD_REQUEST = { statusCode: 400, message: 'Nest says no', error: 'Bad Request' };

describe.each(cases)("LostReasonExceptionFilter on a host's own routes (sqlite, %s, %s)", (adapter, binding) => {
  let app: INestApplication;
  const logger = new CollectingLogger();
  const get = (path: string) => request(app.getHttpServer()).get(path);
  const global = binding !== 'per controller';

  beforeAll(async () => {
    app = await createHostApp({
      db: 'sqlite',
      adapter,
      imports: [
        HostRoutesWithModuleErrorsModule,
        LostReasonModule.forRoot({ apiKeys: [API_KEY], isGlobal: true }),
        ...(binding === 'APP_FILTER' ? [AppFilterModule] : []),
      ],
      configure: (nest) => {
        nest.useLogger(logger);
        if (binding === 'useGlobalFilters') nest.useGlobalFilters(new LostReasonExceptionFilter(nest.get(HttpAdapterHost)));
      },
    });
  });
  afterAll(() => app?.close());
  beforeEach(() => logger.clear());

  /** The module's error body, with a `Request-Id` header equal to its `request_id`. */
  function expectModuleError(response: request.Response, status: number, error: Record<string, unknown>): void {
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { ...error, request_id: expect.stringMatching(REQUEST_ID_PATTERN) } });
    expect(response.headers['request-id']).toBe(response.body.error.request_id);
  }

  it('answers InvalidRequestException thrown by a host route in the envelope, with request_id', async () => {
    expectModuleError(await get('/opportunities/invalid'), 400, {
      type: 'invalid_request_error',
      message: 'amount must be a positive number',
      param: 'amount',
      code: 'parameter_invalid_integer',
    });
  });

  it("answers the service's LostReasonNotFoundException with the API's 404", async () => {
    expectModuleError(await get(`/opportunities/lost-reason/${MISSING_ID}`), 404, {
      type: 'invalid_request_error',
      message: `No such opportunity-lost-reason: '${MISSING_ID}'`,
      param: 'id',
      code: 'resource_missing',
    });
  });

  it("answers Nest's own exceptions and unexpected errors in the same shape; a 500 says nothing and is logged", async () => {
    expectModuleError(await get('/opportunities/nest-bad-request'), 400, { type: 'invalid_request_error', message: 'Nest says no' });
    const failed = await get('/opportunities/boom');
    expectModuleError(failed, 500, apiErrorBody().error);
    expect(JSON.stringify(failed.body)).not.toMatch(/secrets/);
    expect(
      logger.entries
        .filter(({ level }) => level === 'error')
        .map(({ line }) => line)
        .join('\n'),
    ).toContain(`[${failed.body.error.request_id}] GET /opportunities/boom failed: Error: host failure`);
  });

  it(
    global
      ? "answers the host's other routes in the module's shape too, unknown routes included"
      : "leaves the host's other routes in Nest's shape, the module's exceptions included",
    async () => {
      const nestBadRequest = await get('/other/nest-bad-request');
      const invalid = await get('/other/invalid');
      const unknownRoute = await get('/nowhere');
      if (global) {
        expectModuleError(unknownRoute, 404, { type: 'invalid_request_error', message: expect.any(String) });
        expectModuleError(nestBadRequest, 400, { type: 'invalid_request_error', message: 'Nest says no' });
        expectModuleError(invalid, 400, { type: 'invalid_request_error', message: 'amount must be a positive number', param: 'amount' });
      } else {
        expect(unknownRoute.status).toBe(404);
        expect(unknownRoute.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
        expect(nestBadRequest.status).toBe(400);
        expect(nestBadRequest.body).toEqual(NEST_BAD_REQUEST);
        expect(nestBadRequest.headers['request-id']).toBeUndefined();
        // Nest renders the exception's own body: no envelope, no request id.
        expect(invalid.status).toBe(400);
        expect(invalid.body).toEqual({ type: 'invalid_request_error', message: 'amount must be a positive number', param: 'amount' });
      }
    },
  );
});
