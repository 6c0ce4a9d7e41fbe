import { createHash } from 'node:crypto';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The request hash of an empty body before hashes followed what parameters mean (0.1.0). */
const EMPTY_BODY_HASH = sha256('{}');

/** The identity of a key: the tenant's and the key's digest (keys then compare exactly on every database). */
export const keyIdOf = (tenant: string, key: string): string => sha256(JSON.stringify([tenant, key]));

/**
 * What a create's parameters mean, hashed: no body, `{}` and an explicit null create the same
 * object, so they are the same request. `earlier` is what a key stored before this spelling-blind
 * hash holds for the same request (for an empty body); a retry matching it is the same request.
 */
export function requestHashesOf(lostReason: string | null): { current: string; earlier: string } {
  const current = sha256(JSON.stringify({ lost_reason: lostReason }));
  return { current, earlier: lostReason === null ? EMPTY_BODY_HASH : current };
}
