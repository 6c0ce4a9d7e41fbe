import { LostReasonModuleOptionsError } from './errors';
import { API_KEY_PATTERN, digestApiKey } from './http/bearer-token.rule';
import { LOST_REASON_DEFAULTS } from './common/lost-reason.constants';
import { isTenantId } from './tenancy/tenant-id.util';
import { LostReasonModuleExtras, LostReasonModuleOptions } from './interfaces/lost-reason-module-options.interface';
import { ResolvedLostReasonOptions } from './interfaces/resolved-lost-reason-options.interface';

/** The extras, which shape the module graph, with defaults applied; throws on the first bad one. */
export function resolveLostReasonExtras(given: LostReasonModuleExtras): LostReasonModuleExtras & { path: string; mountRoutes: boolean } {
  const { path = LOST_REASON_DEFAULTS.path, dataSource, guards, mountRoutes = LOST_REASON_DEFAULTS.mountRoutes, isGlobal } = given;
  if (mountRoutes !== undefined && typeof mountRoutes !== 'boolean') {
    throw new LostReasonModuleOptionsError('mountRoutes', 'must be a boolean.');
  }
  if (typeof path !== 'string' || !/^[A-Za-z0-9._~\-/]+$/.test(path) || !/[^/]/.test(path)) {
    throw new LostReasonModuleOptionsError(
      'path',
      `must be a non-empty URL path such as "api/crm/opportunity-lost-reason" (got ${JSON.stringify(path)}).`,
    );
  }
  if (guards !== undefined && (!Array.isArray(guards) || guards.length === 0 || guards.some((g) => !g))) {
    throw new LostReasonModuleOptionsError('guards', 'must be a non-empty array of guard classes or instances.');
  }
  return { path, dataSource, guards, mountRoutes, isGlobal };
}

/** Validates the options against the extras and applies defaults; throws on the first bad one. */
export function resolveLostReasonOptions(
  options: LostReasonModuleOptions | undefined,
  extras: LostReasonModuleExtras,
): ResolvedLostReasonOptions {
  const {
    apiKeys,
    verifyApiKey,
    allowUnauthenticated = LOST_REASON_DEFAULTS.allowUnauthenticated,
    hooks,
    tenant,
    multiTenant = LOST_REASON_DEFAULTS.multiTenant,
    requestTimeoutMs = LOST_REASON_DEFAULTS.requestTimeoutMs,
    preparedStatements = LOST_REASON_DEFAULTS.preparedStatements,
    maxConcurrentRequests,
  } = options ?? {};
  if (typeof preparedStatements !== 'boolean') throw new LostReasonModuleOptionsError('preparedStatements', 'must be a boolean.');
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    throw new LostReasonModuleOptionsError('requestTimeoutMs', 'must be a positive integer (milliseconds).');
  }
  if (maxConcurrentRequests !== undefined && (!Number.isInteger(maxConcurrentRequests) || maxConcurrentRequests < 1)) {
    throw new LostReasonModuleOptionsError('maxConcurrentRequests', 'must be a positive integer.');
  }
  // A list of keys, or a non-empty object of key → tenant.
  const perTenantKeys = typeof apiKeys === 'object' && apiKeys !== null && !Array.isArray(apiKeys) && Object.keys(apiKeys).length > 0;
  const keyTenants: Array<[string, string | undefined]> = Array.isArray(apiKeys)
    ? apiKeys.map((key) => [key, undefined])
    : perTenantKeys
      ? Object.entries(apiKeys as Record<string, string>)
      : [];
  const wellFormed = apiKeys === undefined || Array.isArray(apiKeys) || perTenantKeys;
  if (!wellFormed || keyTenants.some(([key]) => typeof key !== 'string' || !API_KEY_PATTERN.test(key))) {
    throw new LostReasonModuleOptionsError(
      'apiKeys',
      'must be a list of keys, or an object of key → tenant, with keys made of letters, digits and - . _ ~ + / (then = padding), as a Bearer token allows.',
    );
  }
  if (perTenantKeys && keyTenants.some(([, owner]) => !isTenantId(owner))) {
    throw new LostReasonModuleOptionsError('apiKeys', 'gives each key a tenant: a non-empty string of at most 64 bytes (UTF-8).');
  }
  if (tenant !== undefined && typeof tenant !== 'function') {
    throw new LostReasonModuleOptionsError('tenant', 'must be a function (request) => string | Promise<string>.');
  }
  if (tenant !== undefined && perTenantKeys) {
    throw new LostReasonModuleOptionsError('tenant', 'and per-tenant "apiKeys" both name the tenant: use one of them.');
  }
  if (perTenantKeys && verifyApiKey !== undefined) {
    throw new LostReasonModuleOptionsError(
      'verifyApiKey',
      'cannot tell a tenant: with per-tenant "apiKeys", list every key, or use a "tenant" function.',
    );
  }
  if (typeof multiTenant !== 'boolean') {
    throw new LostReasonModuleOptionsError('multiTenant', 'must be a boolean.');
  }
  const tenancy = multiTenant || perTenantKeys || tenant !== undefined;
  if (tenancy && extras.mountRoutes !== false && !perTenantKeys && tenant === undefined) {
    throw new LostReasonModuleOptionsError(
      'multiTenant',
      'with routes needs a way to tell the tenant: per-tenant "apiKeys" or a "tenant" function.',
    );
  }
  if (verifyApiKey !== undefined && typeof verifyApiKey !== 'function') {
    throw new LostReasonModuleOptionsError('verifyApiKey', 'must be a function (apiKey) => boolean | Promise<boolean>.');
  }
  if (typeof allowUnauthenticated !== 'boolean') {
    throw new LostReasonModuleOptionsError('allowUnauthenticated', 'must be a boolean.');
  }
  const hookNames = ['created', 'updated', 'deleted'] as const;
  if (
    hooks !== undefined &&
    (typeof hooks !== 'object' ||
      hooks === null ||
      hookNames.some((name) => hooks[name] !== undefined && typeof hooks[name] !== 'function'))
  ) {
    throw new LostReasonModuleOptionsError('hooks', 'must be an object of functions: { created?, updated?, deleted? }.');
  }
  const hasKeyCheck = keyTenants.length > 0 || verifyApiKey !== undefined;
  if (extras.guards && hasKeyCheck) {
    throw new LostReasonModuleOptionsError('guards', 'replaces the API-key check: do not set "apiKeys" or "verifyApiKey" with it.');
  }
  if (!hasKeyCheck && !extras.guards && !allowUnauthenticated && extras.mountRoutes !== false) {
    throw new LostReasonModuleOptionsError(
      'apiKeys',
      'is required: set "apiKeys" or "verifyApiKey", pass your own "guards", or opt out explicitly with "allowUnauthenticated: true".',
    );
  }
  return {
    path: (extras.path ?? '').replace(/^\/+|\/+$/g, ''),
    checkApiKey: hasKeyCheck,
    apiKeys: keyTenants.map(([key, owner]) => ({ digest: digestApiKey(key), tenant: owner })),
    verifyApiKey,
    multiTenant: tenancy,
    tenantOf: tenant,
    hooks,
    requestTimeoutMs,
    preparedStatements,
    maxConcurrentRequests,
  };
}
