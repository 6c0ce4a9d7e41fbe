import { LostReasonModuleOptionsError } from './errors';
import { LOST_REASON_DEFAULTS } from './common/lost-reason.constants';
import { resolveLostReasonOptions, resolveLostReasonExtras } from './lost-reason.options';

const extras = { path: LOST_REASON_DEFAULTS.path };

describe('resolveLostReasonOptions', () => {
  it('hashes the keys and turns the key check on', () => {
    const resolved = resolveLostReasonOptions({ apiKeys: ['sk_test_a', 'sk_test_b'] }, extras);
    expect(resolved.checkApiKey).toBe(true);
    expect(resolved.apiKeys).toHaveLength(2);
    expect(resolved.apiKeys[0].digest).toHaveLength(32);
    expect(resolved.apiKeys[0].tenant).toBeUndefined();
    expect(resolved.multiTenant).toBe(false);
    expect(resolved.path).toBe(LOST_REASON_DEFAULTS.path);
  });

  it('turns tenancy on with per-tenant keys, a tenant function, or multiTenant for a module without routes', () => {
    const perTenant = resolveLostReasonOptions({ apiKeys: { sk_test_a: 'acme', sk_test_b: 'globex' } }, extras);
    expect(perTenant.multiTenant).toBe(true);
    expect(perTenant.apiKeys.map((key) => key.tenant)).toEqual(['acme', 'globex']);
    expect(resolveLostReasonOptions({ apiKeys: ['sk_test_a'], tenant: () => 'acme' }, extras).multiTenant).toBe(true);
    expect(resolveLostReasonOptions({ multiTenant: true }, { ...extras, mountRoutes: false }).multiTenant).toBe(true);
  });

  it('turns the key check off for host guards and for the explicit opt-out', () => {
    expect(resolveLostReasonOptions({}, { ...extras, guards: [{ canActivate: () => true }] }).checkApiKey).toBe(false);
    expect(resolveLostReasonOptions({ allowUnauthenticated: true }, extras).checkApiKey).toBe(false);
  });

  it.each([
    [{}, 'apiKeys'],
    [undefined, 'apiKeys'],
    [{ apiKeys: 'sk_test_a' }, 'apiKeys'],
    [{ apiKeys: [''] }, 'apiKeys'],
    [{ apiKeys: ['sk test'] }, 'apiKeys'],
    [{ verifyApiKey: 'yes' }, 'verifyApiKey'],
    [{ allowUnauthenticated: 'true' }, 'allowUnauthenticated'],
    [{ apiKeys: {} }, 'apiKeys'],
    [{ apiKeys: { sk_test_a: '' } }, 'apiKeys'],
    [{ apiKeys: { sk_test_a: 'x'.repeat(65) } }, 'apiKeys'],
    [{ apiKeys: { 'sk test': 'acme' } }, 'apiKeys'],
    [{ apiKeys: { sk_test_a: 'acme' }, tenant: () => 'acme' }, 'tenant'],
    [{ apiKeys: { sk_test_a: 'acme' }, verifyApiKey: () => true }, 'verifyApiKey'],
    [{ apiKeys: ['sk_test_a'], tenant: 'acme' }, 'tenant'],
    [{ apiKeys: ['sk_test_a'], multiTenant: true }, 'multiTenant'],
    [{ apiKeys: ['sk_test_a'], requestTimeoutMs: 0 }, 'requestTimeoutMs'],
    [{ apiKeys: ['sk_test_a'], preparedStatements: 'yes' }, 'preparedStatements'],
    [{ apiKeys: ['sk_test_a'], maxConcurrentRequests: 0 }, 'maxConcurrentRequests'],
    [{ apiKeys: ['sk_test_a'], maxConcurrentRequests: 1.5 }, 'maxConcurrentRequests'],
    [{ apiKeys: ['sk_test_a'], maxConcurrentRequests: '4' }, 'maxConcurrentRequests'],
  ])('rejects %p naming "%s"', (options, option) => {
    expect(() => resolveLostReasonOptions(options as never, extras)).toThrow(LostReasonModuleOptionsError);
    expect(() => resolveLostReasonOptions(options as never, extras)).toThrow(`"${option}"`);
  });
});

describe('resolveLostReasonExtras', () => {
  it.each(['', '/', 'a b', 'a?b', 42])('rejects the path %p', (path) => {
    expect(() => resolveLostReasonExtras({ path } as never)).toThrow('"path"');
  });

  it('rejects an empty guard list', () => {
    expect(() => resolveLostReasonExtras({ ...extras, guards: [] })).toThrow('"guards"');
  });

  it('accepts nested paths with or without slashes', () => {
    expect(() => resolveLostReasonExtras({ path: '/v1/crm/lost-reasons/' })).not.toThrow();
  });
});

describe('resolveLostReasonExtras defaults', () => {
  it('applies LOST_REASON_DEFAULTS to what is not given', () => {
    expect(resolveLostReasonExtras({})).toEqual({
      path: LOST_REASON_DEFAULTS.path,
      mountRoutes: LOST_REASON_DEFAULTS.mountRoutes,
      dataSource: undefined,
      guards: undefined,
      isGlobal: undefined,
    });
  });
});
