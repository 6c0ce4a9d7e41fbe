import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

/**
 * `size` bytes from the CSPRNG (at most 4096). They are drawn from a pool refilled in bulk,
 * as Node's own `randomUUID` does: one call into OpenSSL per 4 KiB instead of one per id,
 * which the benchmark's profile showed on every create. Each byte is handed out once.
 */
export function randomBytesFromPool(size: number): Buffer {
  if (used + size > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const bytes = Buffer.from(pool.subarray(used, used + size));
  used += size;
  return bytes;
}
