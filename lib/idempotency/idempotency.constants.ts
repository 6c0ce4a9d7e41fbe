/** Request header of a safe retry, as Stripe names it. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Response header set, to `true`, on an answer replayed for a retry. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** Longest accepted `Idempotency-Key`, in characters (printable ASCII). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * How long a key is kept (24 hours): until then, a retry with it is answered with the stored
 * answer; after that, the key counts as never used, and its row is deleted (by the next
 * module process that prunes, at most once a minute each).
 */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** Each process deletes expired keys at most this often. */
export const PRUNE_INTERVAL_MS = 60 * 1000;

/** How often a claim that could not be released (the database was failing) is tried again. */
export const RELEASE_RETRY_MS = 1000;
