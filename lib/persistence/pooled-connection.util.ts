import { TimeoutError } from 'rxjs';
import { DataSource, QueryRunner, ReplicationMode } from 'typeorm';
import { withinDeadline } from '../common/deadline.util';
import { dialectOf } from './dialects/dialect.registry';

/**
 * `work` on a pooled connection of its own. Past `ms` (when given), the answer is a
 * `TimeoutError` and the connection's socket is closed: a statement still running past the
 * request's deadline may be on a connection that died silently (a NAT or conntrack flush, a
 * failover, a stalled proxy: nothing resets it, so the driver waits forever). Closed, its
 * statement fails and the driver's pool drops it instead of handing it out again, so the pool
 * heals without a restart; on the database the session ends, and an unfinished statement rolls
 * back. The connections idle in its pool at that moment are closed too (`destroyStalled`): they
 * went through the same network, and each dead one handed out would cost a request a deadline.
 * `work` is skipped if the pool hands the connection over only after the deadline.
 *
 * The connection is released once `work` has settled, never under it: a runner released while
 * still waiting for its connection would leave that connection out of the pool for good, and a
 * destroyed one released at once would go back to it before the driver notices.
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
    dialectOf(dataSource).destroyStalled(runner);
  });
}
