/**
 * Every default of the module's options, in one place. The option docs name these rather than
 * repeat the values.
 */
export const LOST_REASON_DEFAULTS = {
  /** Route of the resource. */
  path: 'api/crm/opportunity-lost-reason',
  /** Serve the HTTP routes. */
  mountRoutes: true,
  /** Register the module globally. */
  isGlobal: false,
  /** Tenancy (implied by per-tenant `apiKeys` or a `tenant` function). */
  multiTenant: false,
  /** Serve the routes with no authentication at all (meant for tests). */
  allowUnauthenticated: false,
  /** Bound of one HTTP request of the module, in milliseconds. */
  requestTimeoutMs: 10_000,
  /** Prepared statements for the module's fixed SQL. */
  preparedStatements: true,
} as const;

/** Prefix of every object id, Stripe-style. */
export const LOST_REASON_ID_PREFIX = 'opportunity-lost-reason_';

/** Every id the module issues has this shape; anything else cannot exist. */
export const LOST_REASON_ID_PATTERN = /^opportunity-lost-reason_[0-9a-f]{32}$/;

/** Longest accepted `lost_reason`, counted in Unicode code points. */
export const LOST_REASON_MAX_LENGTH = 500;

/** Page size of the list endpoint when `limit` is not given. */
export const LIST_LIMIT_DEFAULT = 20;
/** Largest `limit` the list endpoint accepts. */
export const LIST_LIMIT_MAX = 100;
/** Deepest `offset` of a list that still holds objects: deeper pages are reached with `starting_after`. */
export const LIST_OFFSET_MAX = 10_000;

/** Injection token of the validated options with defaults applied (internal). */
export const LOST_REASON_RESOLVED_OPTIONS = Symbol('LOST_REASON_RESOLVED_OPTIONS');

/** Injection token of the idempotency keys' repository on the host's chosen data source (internal). */
export const LOST_REASON_IDEMPOTENCY_REPOSITORY = Symbol('LOST_REASON_IDEMPOTENCY_REPOSITORY');

/** Injection token of the repository bound to the host's chosen data source (internal). */
export const LOST_REASON_REPOSITORY = Symbol('LOST_REASON_REPOSITORY');
