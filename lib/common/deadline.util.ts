import { TimeoutError } from 'rxjs';
import { DataSource, QueryRunner, ReplicationMode } from 'typeorm';

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

/**
 * Closes the socket under a query runner's connection. A statement still running past the
 * request's deadline may be on a connection that died silently (a NAT or conntrack flush, a
 * failover, a stalled proxy: nothing resets it, so the driver waits forever). Closed, its
 * statement fails and the driver's pool drops it instead of handing it out again, so the pool
 * heals without a restart. On the database, the session ends: an unfinished statement rolls back.
 */
export function destroyConnection(runner: QueryRunner): void {
  // pg's Client keeps its socket at `connection.stream`, mysql2's Connection at `stream`;
  // mysql2's pooled connection also has to leave its pool by `destroy()`. SQLite has no socket.
  const connection = (runner as { databaseConnection?: { connection?: { stream?: Socketish }; stream?: Socketish; destroy?: () => void } })
    .databaseConnection;
  (connection?.connection?.stream ?? connection?.stream)?.destroy?.();
  connection?.destroy?.();
}

interface Socketish {
  destroy?: () => void;
}

/**
 * `work` on a pooled connection of its own. Past `ms` (when given), the answer is a
 * `TimeoutError` and the connection is destroyed (`destroyConnection`), so a silently dead one
 * never goes back to the pool; `work` is skipped if the pool hands the connection over only
 * after that. The connection is released once `work` has settled, never under it: a runner
 * released while still waiting for its connection would leave that connection out of the pool
 * for good, and a destroyed one released at once would go back to it before the driver notices.
 */
export async function onPooledConnection<T>(
  dataSource: DataSource,
  mode: ReplicationMode,
  ms: number | undefined,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner(mode);
  let expired = false;
  const done = (async () => {
    await runner.connect();
    if (expired) throw new TimeoutError();
    return work(runner);
  })();
  const release = () => runner.release().catch(() => undefined);
  void done.then(release, release);
  if (ms === undefined) return done;
  return withinDeadline(done, ms, () => {
    expired = true;
    destroyConnection(runner);
  });
}
