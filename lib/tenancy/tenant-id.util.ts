/** Longest tenant id, in UTF-8 bytes. */
const MAX_TENANT_BYTES = 64;

/** A tenant id: a non-empty, well-formed string of at most 64 bytes in UTF-8. */
export const isTenantId = (tenant: unknown): tenant is string =>
  typeof tenant === 'string' && tenant.length > 0 && tenant.isWellFormed() && Buffer.byteLength(tenant, 'utf8') <= MAX_TENANT_BYTES;

/**
 * How a tenant id is stored in `tenant_id`: its UTF-8 bytes in hex. MySQL/MariaDB's default
 * collations compare text ignoring case and trailing spaces, which would make `acme`, `ACME`
 * and `acme ` one tenant there (and a tenant named ' ' equal to the untenanted ''); hex compares
 * byte for byte on every database. `''` stays `''`: no tenant.
 */
export const storedTenantId = (tenant: string): string => Buffer.from(tenant, 'utf8').toString('hex');
