import { DataSource, QueryFailedError, QueryResult, QueryRunner, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { LostReasonDialect, PreparedStatementRunner } from './dialects/dialect.interface';

/**
 * The dialect's prepared statements on `connection`, unless turned off (`prepared`), or unless an
 * entity subscriber listens to queries: its `beforeQuery` / `afterQuery` see only statements
 * sent by TypeORM's `query()`.
 */
export function preparedRunnerOf(
  connection: DataSource,
  dialect: LostReasonDialect,
  prepared: boolean,
): PreparedStatementRunner | undefined {
  const listened = connection.subscribers.some((subscriber) => subscriber.beforeQuery || subscriber.afterQuery);
  return prepared && !listened ? dialect.executePrepared : undefined;
}

/**
 * One of the module's fixed statements, run as a prepared statement on the driver connection
 * `runner` holds: the host's transaction's, or the pooled connection of the replica or primary
 * the runner was created for. Parsed and planned once per connection, then only executed.
 * Logged as TypeORM's own `query()` logs (`logQuery`, `logQuerySlow` past
 * `maxQueryExecutionTime`, `logQueryError`), and failing with the same `QueryFailedError`.
 */
export async function executePrepared(
  runner: QueryRunner,
  execute: PreparedStatementRunner,
  sql: string,
  parameters: unknown[],
  timeoutMs?: number,
): Promise<QueryResult> {
  // As TypeORM's query() refuses: a released runner's connection may be another caller's by now.
  if (runner.isReleased) throw new QueryRunnerAlreadyReleasedError();
  const connection: unknown = await runner.connect();
  const { logger, options } = runner.connection;
  logger.logQuery(sql, parameters, runner);
  const started = Date.now();
  try {
    const { records, affected } = await execute(connection, sql, parameters, timeoutMs);
    const elapsed = Date.now() - started;
    if (options.maxQueryExecutionTime && elapsed > options.maxQueryExecutionTime) logger.logQuerySlow(elapsed, sql, parameters, runner);
    return Object.assign(new QueryResult(), { records, affected, raw: records });
  } catch (error) {
    logger.logQueryError(error as Error, sql, parameters, runner);
    throw new QueryFailedError(sql, parameters, error as Error);
  }
}
