import { QueryFailedError, QueryRunner, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { executePrepared } from './prepared-statement.executor';

/** A query runner as the executor sees it: its driver connection, and its data source's logger and options. */
function fakeRunner(maxQueryExecutionTime?: number) {
  const logger = { logQuery: jest.fn(), logQuerySlow: jest.fn(), logQueryError: jest.fn() };
  const connection = { client: 'driver connection' };
  const runner = {
    isReleased: false,
    connect: jest.fn(async () => connection),
    connection: { logger, options: { maxQueryExecutionTime } },
  };
  return { runner: runner as unknown as QueryRunner, logger, connection };
}

describe('executePrepared', () => {
  it('runs the statement on the connection the runner holds, logs it as TypeORM does, and answers a QueryResult', async () => {
    const { runner, logger, connection } = fakeRunner();
    const execute = jest.fn(async () => ({ records: [{ id: 'a' }], affected: undefined }));
    const result = await executePrepared(runner, execute, 'SELECT 1 WHERE a = $1', ['x'], 2500);
    expect(execute).toHaveBeenCalledWith(connection, 'SELECT 1 WHERE a = $1', ['x'], 2500); // the statement's deadline, passed on
    expect(logger.logQuery).toHaveBeenCalledWith('SELECT 1 WHERE a = $1', ['x'], runner);
    expect(result).toMatchObject({ records: [{ id: 'a' }], raw: [{ id: 'a' }] });
    expect(logger.logQuerySlow).not.toHaveBeenCalled();
  });

  it('logs a statement slower than maxQueryExecutionTime', async () => {
    const { runner, logger } = fakeRunner(5);
    const slow = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { records: [], affected: 1 };
    };
    expect((await executePrepared(runner, slow, 'UPDATE t SET a = 1', [])).affected).toBe(1);
    expect(logger.logQuerySlow).toHaveBeenCalledWith(expect.any(Number), 'UPDATE t SET a = 1', [], runner);
  });

  it('logs a failure and throws it as a QueryFailedError holding the driver error, as TypeORM does', async () => {
    const { runner, logger } = fakeRunner();
    const driverError = Object.assign(new Error('duplicate key value'), { code: '23505' });
    const failing = async () => Promise.reject(driverError);
    const thrown = await executePrepared(runner, failing, 'INSERT INTO t VALUES ($1)', [1]).catch((error) => error);
    expect(thrown).toBeInstanceOf(QueryFailedError);
    expect(thrown.driverError).toBe(driverError);
    expect(logger.logQueryError).toHaveBeenCalledWith(driverError, 'INSERT INTO t VALUES ($1)', [1], runner);
  });

  it('refuses a released runner, as TypeORM’s query() does: its connection may be another caller’s by now', async () => {
    const { runner } = fakeRunner();
    Object.assign(runner, { isReleased: true });
    const execute = jest.fn();
    await expect(executePrepared(runner, execute, 'SELECT 1', [])).rejects.toBeInstanceOf(QueryRunnerAlreadyReleasedError);
    expect(execute).not.toHaveBeenCalled();
  });
});
