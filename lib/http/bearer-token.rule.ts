import { hash } from 'node:crypto';

/** RFC 6750's bearer token characters: what an API key may be made of. */
const BEARER_TOKEN = '[A-Za-z0-9\\-._~+/]+=*';
export const API_KEY_PATTERN = new RegExp(`^${BEARER_TOKEN}$`);
/** An `Authorization` header carrying a bearer token (the scheme in any case). */
export const BEARER_HEADER_PATTERN = new RegExp(`^Bearer +(${BEARER_TOKEN}) *$`, 'i');

/**
 * SHA-256 of a key: equal-length buffers, so keys compare in constant time. One-shot `hash`, not
 * a `Hash` object: this runs on every request.
 */
export const digestApiKey = (key: string): Buffer => hash('sha256', key, 'buffer');
