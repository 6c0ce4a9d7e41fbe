import { EntityManager } from 'typeorm';
import { dialectOf, driverErrorOf } from './dialects/dialect.registry';

/** How many times a write rolled back for a conflict is tried in all (of 480 updates, 12 at once on one row through 3 Galera nodes, none needed more than 4). */
const CONFLICT_ATTEMPTS = 8;
/** The longest pause before a conflicting write's second attempt, in milliseconds; it grows with each attempt. */
const CONFLICT_PAUSE_MS = 5;

/**
 * `write`, done again when the database rolled it back whole for a conflict with a concurrent
 * write (the dialect's `isConflict`): on Galera, two nodes writing one row at once, or a gap one
 * node's transaction locked where another node's insert landed, where certification refuses the
 * later commit. Up to `CONFLICT_ATTEMPTS` times, after a short random pause so that the losers do
 * not meet again, and not past `timeoutMs` from the first attempt (the request's deadline: by then
 * the client was answered 503 and may retry itself). Not inside a host's transaction (`manager`
 * holding one): the rollback ended all of it, which only the host can redo.
 */
export async function retryingConflicts<T>(manager: EntityManager, timeoutMs: number | undefined, write: () => Promise<T>): Promise<T> {
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const driverError = driverErrorOf(error);
      const conflict = driverError !== undefined && dialectOf(manager.connection).isConflict(driverError);
      if (!conflict || attempt === CONFLICT_ATTEMPTS || Date.now() >= deadline || manager.queryRunner) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * CONFLICT_PAUSE_MS * attempt));
    }
  }
}
