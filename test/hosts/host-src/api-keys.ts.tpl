/**
 * The module's `apiKeys` from CRM_API_KEYS, comma-separated: bare keys (`sk_a,sk_b`), or
 * `tenant:key` entries (`acme:sk_a,globex:sk_b`), which turn tenancy on: each key answers for
 * its tenant.
 */
export function apiKeysFrom(value: string): string[] | Record<string, string> {
  const entries = value.split(',').map((entry) => entry.trim());
  if (!entries.some((entry) => entry.includes(':'))) return entries;
  const keys: Record<string, string> = {};
  for (const entry of entries) {
    const [tenant, key] = entry.split(':');
    if (!tenant || !key) throw new Error(`CRM_API_KEYS: "${entry}" is not tenant:key`);
    keys[key] = tenant;
  }
  return keys;
}
