import { LostReasonApiKeyVerifier, LostReasonHooks, LostReasonTenantResolver } from './lost-reason-module-options.interface';

/** The options as the module uses them: checked once, at start-up. */
export interface ResolvedLostReasonOptions {
  /** Route of the resource, without surrounding slashes. */
  path: string;
  /** False when the host's guards or `allowUnauthenticated` replace the API-key check. */
  checkApiKey: boolean;
  /** SHA-256 of each accepted key (equal-length buffers for a constant-time comparison), and its tenant. */
  apiKeys: Array<{ digest: Buffer; tenant?: string }>;
  verifyApiKey?: LostReasonApiKeyVerifier;
  /** Tenancy on: every object belongs to one tenant, and every operation sees only its own. */
  multiTenant: boolean;
  /** The host's request → tenant mapping, when the tenant does not come from the key. */
  tenantOf?: LostReasonTenantResolver;
  hooks?: LostReasonHooks;
  requestTimeoutMs: number;
  preparedStatements: boolean;
  /** Undefined: the data source's pool size (`TenantTurns`). */
  maxConcurrentRequests?: number;
}
