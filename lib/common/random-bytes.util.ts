import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

/**
 * Where `size` fresh bytes from the CSPRNG start in `pool` (at most 4096). They are drawn from a
 * pool refilled in bulk, as Node's own `randomUUID` does: one call into OpenSSL per 4 KiB instead
 * of one per id, which the benchmark's profile showed on every create. Each byte is handed out
 * once, and read as text straight from the pool, without a copy.
 */
function take(size: number): number {
  if (used + size > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  used += size;
  return used - size;
}

/** `size` random bytes, as hex. */
export function randomHex(size: number): string {
  const start = take(size);
  return pool.toString('hex', start, start + size);
}

const BASE62 = Buffer.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 'latin1');
const MAX_BASE62_LENGTH = 64;
const base62 = Buffer.allocUnsafe(MAX_BASE62_LENGTH);

/**
 * `length` random characters of [0-9A-Za-z] (at most 64), uniform: bytes of 248 and above are
 * skipped, so that none of the 62 comes up more often (248 = 4 × 62).
 */
export function randomBase62(length: number): string {
  if (length > MAX_BASE62_LENGTH) throw new RangeError(`randomBase62: at most ${MAX_BASE62_LENGTH} characters`);
  let filled = 0;
  while (filled < length) {
    const wanted = length - filled;
    const start = take(wanted);
    for (let i = start; i < start + wanted; i++) {
      if (pool[i] < 248) base62[filled++] = BASE62[pool[i] % 62];
    }
  }
  return base62.toString('latin1', 0, length);
}
