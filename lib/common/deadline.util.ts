import { TimeoutError } from 'rxjs';

/**
 * `work`'s result, or rxjs's `TimeoutError` once `ms` have passed (the module's exception
 * filter answers it as a 503 `api_error`), so a stuck statement, an unreachable database or a
 * host callback that hangs never holds a request forever. The work itself is not cancelled: a
 * statement may still complete on the database (a write is one statement or one transaction,
 * so it happens entirely or not at all). `onExpired` runs when the deadline passes.
 */
export async function withinDeadline<T>(work: T | Promise<T>, ms: number, onExpired?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpired?.();
      reject(new TimeoutError());
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
