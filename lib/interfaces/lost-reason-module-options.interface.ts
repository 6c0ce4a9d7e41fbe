import { CanActivate, Type } from '@nestjs/common';
import { DataSource, DataSourceOptions } from 'typeorm';
import type { DeletedLostReason, LostReasonObject } from '../dto';

/**
 * Checks a bearer key the host does not want to list in `apiKeys` (keys in a vault or a
 * table, say). Resolve `true` to accept the key.
 */
export type LostReasonApiKeyVerifier = (apiKey: string) => boolean | Promise<boolean>;

/**
 * The host's reactions to writes, called after the write is committed (after the host's own
 * transaction commits when the service was bound to it with `withManager`). A hook that
 * throws is logged; the write and its answer stand.
 */
export interface LostReasonHooks {
  created?(object: LostReasonObject, context: LostReasonHookContext): void | Promise<void>;
  updated?(object: LostReasonObject, context: LostReasonHookContext): void | Promise<void>;
  deleted?(confirmation: DeletedLostReason, context: LostReasonHookContext): void | Promise<void>;
}

/** What a hook knows besides the object. */
export interface LostReasonHookContext {
  /** The tenant the write belongs to; `undefined` when tenancy is off. */
  tenant?: string;
}

/**
 * The host's mapping of a request to its tenant (sync or async): the Express or Fastify
 * request, after authentication. Return a non-empty string of at most 64 bytes in UTF-8;
 * anything else answers 401.
 */
// `any`: the host's own request type (Express's or Fastify's) must be assignable without a cast.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LostReasonTenantResolver = (request: any) => string | undefined | Promise<string | undefined>;

/**
 * Options of `LostReasonModule.forRoot()` and the `useFactory`/`useClass` of `forRootAsync()`.
 *
 * One way of authenticating is required: `apiKeys`, `verifyApiKey`, the `guards` extra, or
 * the explicit opt-out `allowUnauthenticated: true`. Otherwise start-up fails.
 */
export interface LostReasonModuleOptions {
  /**
   * Keys accepted in `Authorization: Bearer <key>`, compared in constant time: a list
   * (`['sk_test_…']`), or, to turn tenancy on with the tenant taken from the key, an object of
   * key → tenant (`{ sk_test_a: 'acme', sk_test_b: 'globex' }`).
   */
  apiKeys?: string[] | Record<string, string>;
  /** Host-supplied check of a bearer key; consulted when the key is not in `apiKeys`. */
  verifyApiKey?: LostReasonApiKeyVerifier;
  /**
   * Turns tenancy on with the tenant given by a host function of the request (e.g. from the
   * user its own guards authenticated). Not with `apiKeys` given per tenant.
   */
  tenant?: LostReasonTenantResolver;
  /**
   * Turns tenancy on for a module without routes (`mountRoutes: false`), whose service is only
   * used as `forTenant(tenant)`. Implied by per-tenant `apiKeys` or `tenant`. Default `false`.
   */
  multiTenant?: boolean;
  /** Serve the routes with no authentication at all. Default `false`; meant for tests. */
  allowUnauthenticated?: boolean;
  /** Called after each committed create, update and delete (HTTP or injected service). */
  hooks?: LostReasonHooks;
  /**
   * Longest an HTTP request of the module may take, in milliseconds, before it answers 503
   * (`api_error`): a stuck or unreachable database cannot hold a request forever. Default
   * `LOST_REASON_DEFAULTS.requestTimeoutMs` (10 s).
   */
  requestTimeoutMs?: number;
  /**
   * Run the module's statements as prepared statements of the driver (pg's named statements,
   * mysql2's `execute`), parsed once per connection. Default `true`. Turn it off behind a pooler
   * that cannot keep them per client connection (PgBouncer in transaction mode before 1.21, or
   * without `max_prepared_statements`).
   */
  preparedStatements?: boolean;
  /**
   * How many of the module's HTTP requests run at once on this instance (a finished one frees
   * its place at the end of the event loop's turn); more wait, taking turns tenant by tenant, so
   * one tenant's burst cannot hold every connection (or, on SQLite, the event loop) while another
   * tenant waits behind it. Default: the data source's pool size (`poolSize`, else the driver's
   * `max`/`connectionLimit`, else 10); 10 on SQLite.
   */
  maxConcurrentRequests?: number;
}

/**
 * Options that shape the module graph, so they are given synchronously, next to
 * `useFactory` in `forRootAsync()`, never returned by it.
 */
export interface LostReasonModuleExtras {
  /** Route of the resource. Default `LOST_REASON_DEFAULTS.path` (`api/crm/opportunity-lost-reason`). */
  path?: string;
  /**
   * The host's TypeORM data source to store objects in: its name, options or instance, as
   * `TypeOrmModule.forFeature()` takes it. Default: the default data source.
   */
  dataSource?: DataSource | DataSourceOptions | string;
  /**
   * The host's own guards, run on the module's routes instead of the API-key check (which is
   * then disabled, so `apiKeys`/`verifyApiKey` must not be set). They are resolved in the
   * module's context: global providers or classes without dependencies work as is.
   */
  guards?: Array<CanActivate | Type<CanActivate>>;
  /**
   * Mount the HTTP routes. Default `true`; `false` gives the host only the injectable
   * `LostReasonService` (and needs no authentication options).
   */
  mountRoutes?: boolean;
  /** Register the module globally. Default `false`. */
  isGlobal?: boolean;
}
