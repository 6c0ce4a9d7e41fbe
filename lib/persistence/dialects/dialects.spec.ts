import { DataSource, DataSourceOptions, QueryFailedError, QueryRunner } from 'typeorm';
import { LostReason } from '../lost-reason.entity';
import { LostReasonStatements } from '../lost-reason.statements';
import { LostReasonDialect } from './dialect.interface';
import { DIALECTS, dialectOf, driverErrorOf } from './dialect.registry';
import { mysqlDialect } from './mysql.dialect';
import { postgresDialect } from './postgres.dialect';
import { betterSqlite3Dialect, sqliteDialect } from './sqlite.dialect';

/** The statements of a data source that is never connected: SQL is written from metadata alone. */
async function statementsFor(options: DataSourceOptions, counterPath?: string, causalRead?: string): Promise<LostReasonStatements> {
  const dataSource = new DataSource({ ...options, entities: [LostReason] } as DataSourceOptions);
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  const Statements = LostReasonStatements as unknown as new (...args: unknown[]) => LostReasonStatements;
  return new Statements(dataSource.getMetadata(LostReason), dialectOf(dataSource), counterPath, causalRead);
}

describe('dialectOf', () => {
  it.each([
    ['postgres', postgresDialect],
    ['mysql', mysqlDialect],
    ['mariadb', mysqlDialect],
    ['better-sqlite3', betterSqlite3Dialect],
    ['sqlite', sqliteDialect],
    ['sqljs', sqliteDialect],
  ] as const)('chooses the dialect of a %s data source', (type, dialect) => {
    expect(dialectOf({ options: { type } } as DataSource)).toBe(dialect);
  });

  it('refuses a database family the module does not support, naming its type', () => {
    expect(() => dialectOf({ options: { type: 'mssql' } } as DataSource)).toThrow('"mssql"');
  });
});

describe('each dialect', () => {
  it.each<[string, LostReasonDialect, Record<string, unknown>, Record<string, unknown>]>([
    ['PostgreSQL', postgresDialect, { code: '23505' }, { code: '22021' }],
    ['MySQL/MariaDB', mysqlDialect, { errno: 1062 }, { errno: 1366 }],
    ['SQLite', sqliteDialect, { code: 'SQLITE_CONSTRAINT_PRIMARYKEY', message: 'UNIQUE constraint failed: t.id' }, {}],
  ])('%s: knows its duplicate and unstorable-text errors, and no other', (_name, dialect, duplicate, unstorable) => {
    expect(dialect.violationOf(duplicate)?.kind).toBe('duplicate');
    expect(dialect.violationOf({ code: 'XX000', errno: 1, message: 'boom' })).toBeUndefined();
    expect(dialect.isUnstorable(unstorable)).toBe(dialect !== sqliteDialect);
    expect(dialect.isUnstorable(duplicate)).toBe(false);
  });

  // The errors as each driver reports them (pg 8, mysql2 on MariaDB 10.11, better-sqlite3 and sqlite3).
  it.each<[string, LostReasonDialect, Record<string, unknown>, ReturnType<LostReasonDialect['violationOf']>]>([
    [
      'PostgreSQL: a delete of a referenced row',
      postgresDialect,
      {
        code: '23503',
        constraint: 'opportunity_lost_reason_id_fkey',
        message: 'update or delete on table … violates foreign key constraint',
      },
      { kind: 'foreign-key', constraint: 'opportunity_lost_reason_id_fkey' },
    ],
    [
      'PostgreSQL: a unique index',
      postgresDialect,
      { code: '23505', constraint: 'uq_reason' },
      { kind: 'duplicate', constraint: 'uq_reason' },
    ],
    [
      'PostgreSQL: a CHECK',
      postgresDialect,
      { code: '23514', constraint: 'opportunity_lost_reason_lost_reason_check' },
      { kind: 'check', constraint: 'opportunity_lost_reason_lost_reason_check' },
    ],
    ['PostgreSQL: a NOT NULL', postgresDialect, { code: '23502', column: 'lost_reason' }, { kind: 'check', constraint: 'lost_reason' }],
    [
      'MariaDB: a delete of a referenced row',
      mysqlDialect,
      {
        errno: 1451,
        message:
          'Cannot delete or update a parent row: a foreign key constraint fails (`crm`.`opportunity`, CONSTRAINT `opportunity_ibfk_1` FOREIGN KEY (`lost_reason_id`) REFERENCES `opportunity_lost_reason` (`id`))',
      },
      { kind: 'foreign-key', constraint: 'opportunity_ibfk_1' },
    ],
    [
      'MariaDB: a row referencing a missing one',
      mysqlDialect,
      { errno: 1452, message: 'Cannot add or update a child row: a foreign key constraint fails (`crm`.`t`, CONSTRAINT `fk` …)' },
      { kind: 'foreign-key', constraint: 'fk' },
    ],
    [
      'MariaDB: a unique index (the value first, then the key)',
      mysqlDialect,
      { errno: 1062, message: "Duplicate entry '-budget' for key 'uq_reason'" },
      { kind: 'duplicate', constraint: 'uq_reason' },
    ],
    [
      "MariaDB: a column's CHECK (mysql2 calls errno 4025 by a MySQL name)",
      mysqlDialect,
      {
        errno: 4025,
        code: 'ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE',
        message: 'CONSTRAINT `opportunity_lost_reason.lost_reason` failed for `crm`.`opportunity_lost_reason`',
      },
      { kind: 'check', constraint: 'opportunity_lost_reason.lost_reason' },
    ],
    [
      'MySQL: a CHECK',
      mysqlDialect,
      { errno: 3819, message: "Check constraint 'short_reason' is violated." },
      { kind: 'check', constraint: 'short_reason' },
    ],
    [
      'MariaDB: a NOT NULL',
      mysqlDialect,
      { errno: 1048, message: "Column 'lost_reason' cannot be null" },
      { kind: 'check', constraint: 'lost_reason' },
    ],
    [
      'better-sqlite3: ON DELETE RESTRICT (a trigger code)',
      betterSqlite3Dialect,
      { code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'FOREIGN KEY constraint failed' },
      { kind: 'foreign-key' },
    ],
    [
      'better-sqlite3: a foreign key without action',
      betterSqlite3Dialect,
      { code: 'SQLITE_CONSTRAINT_FOREIGNKEY', message: 'FOREIGN KEY constraint failed' },
      { kind: 'foreign-key' },
    ],
    [
      'better-sqlite3: an expression index',
      betterSqlite3Dialect,
      { code: 'SQLITE_CONSTRAINT_UNIQUE', message: "UNIQUE constraint failed: index 'uq_reason'" },
      { kind: 'duplicate', constraint: "index 'uq_reason'" },
    ],
    [
      'better-sqlite3: a CHECK, by its expression',
      betterSqlite3Dialect,
      { code: 'SQLITE_CONSTRAINT_CHECK', message: 'CHECK constraint failed: length(lost_reason) < 50' },
      { kind: 'check', constraint: 'length(lost_reason) < 50' },
    ],
    [
      'sqlite3: a NOT NULL',
      sqliteDialect,
      {
        code: 'SQLITE_CONSTRAINT',
        errno: 19,
        message: 'SQLITE_CONSTRAINT: NOT NULL constraint failed: opportunity_lost_reason.lost_reason',
      },
      { kind: 'check', constraint: 'opportunity_lost_reason.lost_reason' },
    ],
  ])('%s', (_label, dialect, error, violation) => {
    expect(dialect.violationOf(error)).toEqual(violation);
  });

  it('takes no other error for a constraint violation', () => {
    // A host trigger's RAISE(ABORT, …) has the trigger code but its own message.
    expect(betterSqlite3Dialect.violationOf({ code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'no deletes on Sundays' })).toBeUndefined();
    expect(betterSqlite3Dialect.violationOf({ code: 'SQLITE_ERROR', message: 'CHECK constraint failed: x' })).toBeUndefined();
    expect(postgresDialect.violationOf({ code: '22021' })).toBeUndefined();
    expect(mysqlDialect.violationOf({ errno: 1366, message: "Incorrect string value: '\\xF0' for column 'lost_reason'" })).toBeUndefined();
  });

  it('PostgreSQL: class 08, shutdown and pool messages are unavailable; cancels, lock timeouts and deadlocks are timeouts', () => {
    for (const code of ['08006', '57P01', '53300']) expect(postgresDialect.faultOf({ code })).toBe('unavailable');
    for (const code of ['57014', '55P03', '40P01', '40001']) expect(postgresDialect.faultOf({ code })).toBe('timeout');
    expect(postgresDialect.faultOf({ message: 'Connection terminated unexpectedly' })).toBe('unavailable');
    // A request still running while the host shuts down: another instance can serve its retry.
    expect(postgresDialect.faultOf({ message: 'Cannot use a pool after calling end on the pool' })).toBe('unavailable');
    expect(postgresDialect.faultOf({ message: 'Query read timeout' })).toBe('timeout');
    expect(postgresDialect.faultOf({ code: '23505' })).toBeUndefined();
  });

  it('MySQL/MariaDB: lost connections are unavailable; lock waits, statement timeouts and deadlocks are timeouts', () => {
    expect(mysqlDialect.faultOf({ code: 'PROTOCOL_CONNECTION_LOST' })).toBe('unavailable');
    // A Galera node outside the Primary Component, on any statement and at COMMIT.
    expect(mysqlDialect.faultOf({ errno: 1047, code: 'ER_UNKNOWN_COM_ERROR' })).toBe('unavailable');
    expect(mysqlDialect.faultOf({ errno: 1180, code: 'ER_ERROR_DURING_COMMIT' })).toBe('unavailable');
    expect(mysqlDialect.faultOf({ message: "Can't add new command when connection is in closed state" })).toBe('unavailable');
    expect(mysqlDialect.faultOf({ message: 'Pool is closed.' })).toBe('unavailable');
    for (const code of ['ER_LOCK_WAIT_TIMEOUT', 'ER_STATEMENT_TIMEOUT', 'ER_LOCK_DEADLOCK'])
      expect(mysqlDialect.faultOf({ code })).toBe('timeout');
    expect(mysqlDialect.faultOf({ code: 'ER_DUP_ENTRY' })).toBeUndefined();
  });

  it('knows a write rolled back for a conflict (a deadlock, a serialization failure, Galera certification) from other errors', () => {
    expect(mysqlDialect.isConflict({ errno: 1213, code: 'ER_LOCK_DEADLOCK' })).toBe(true);
    expect(mysqlDialect.isConflict({ errno: 1205, code: 'ER_LOCK_WAIT_TIMEOUT' })).toBe(false);
    for (const code of ['40P01', '40001']) expect(postgresDialect.isConflict({ code })).toBe(true);
    expect(postgresDialect.isConflict({ code: '57014' })).toBe(false);
    expect(sqliteDialect.isConflict({ code: 'SQLITE_BUSY' })).toBe(false);
  });

  it.each([
    ['MariaDB Galera', '10.11.19-MariaDB-log', [{ Variable_name: 'wsrep_on', Value: 'ON' }], 'SET STATEMENT wsrep_sync_wait = 1 FOR '],
    ['MariaDB with wsrep off', '10.11.19-MariaDB', [{ Variable_name: 'wsrep_on', Value: 'OFF' }], ''],
    ['MariaDB built without wsrep', '11.4.2-MariaDB', [], ''],
    ['MySQL (never asked: it has no SET STATEMENT)', '8.4.3', undefined, ''],
  ])('MySQL/MariaDB: causal reads on %s', async (_name, version, variables, prefix) => {
    const query = jest.fn(async (sql: string) => (sql.includes('VERSION()') ? [{ version }] : variables));
    await expect(mysqlDialect.causalReadPrefix?.({ query } as unknown as QueryRunner)).resolves.toBe(prefix);
    expect(query).toHaveBeenCalledTimes(variables === undefined ? 1 : 2);
  });

  it('PostgreSQL: one name per statement text, prepared afresh under a new name when a migration changed the result type', async () => {
    const stale = Object.assign(new Error('cached plan must not change result type'), { code: '0A000' });
    const query = jest.fn(async (config: { name: string }) => ({ rows: [config.name], rowCount: 1 }));
    const run = (text: string) => postgresDialect.executePrepared?.({ query }, text, []);
    const first = await run('SELECT 1 AS one');
    expect(await run('SELECT 1 AS one')).toEqual(first);
    expect(await run('SELECT 2 AS two')).not.toEqual(first);
    query.mockRejectedValueOnce(stale);
    const renamed = await run('SELECT 1 AS one');
    expect(renamed?.records).not.toEqual(first?.records);
    expect(await run('SELECT 1 AS one')).toEqual(renamed);
    query.mockRejectedValueOnce(Object.assign(new Error('syntax error'), { code: '42601' }));
    await expect(run('SELECT 1 AS one')).rejects.toThrow('syntax error');
  });

  it('MySQL/MariaDB: execute() with numbers as strings; rows for a SELECT, affectedRows for a write', async () => {
    const execute = jest.fn((sql: string, _values: unknown[], done: (error: Error | null, result: unknown) => void) =>
      done(null, sql.startsWith('SELECT') ? [{ id: 'a' }] : { affectedRows: 1 }),
    );
    await expect(mysqlDialect.executePrepared?.({ execute }, 'SELECT id FROM t LIMIT ?', [20])).resolves.toEqual({
      records: [{ id: 'a' }],
    });
    expect(execute.mock.calls[0][1]).toEqual(['20']);
    await expect(mysqlDialect.executePrepared?.({ execute }, 'UPDATE t SET a = ?', ['x'])).resolves.toEqual({ records: [], affected: 1 });
    // The legacy `mysql` package (TypeORM 0.3 may load it) has no execute(): its query() instead.
    const query = jest.fn((_sql: string, _values: unknown[], done: (error: Error | null, result: unknown) => void) =>
      done(null, [{ id: 'b' }]),
    );
    await expect(mysqlDialect.executePrepared?.({ query }, 'SELECT id FROM t LIMIT ?', [20])).resolves.toEqual({ records: [{ id: 'b' }] });
    expect(query.mock.calls[0][1]).toEqual([20]);
    // sqlite3 and sql.js: through TypeORM's query().
    expect(sqliteDialect.executePrepared).toBeUndefined();
  });

  it("MySQL/MariaDB: closes a stalled connection and its pool's idle ones, on mysql2's pool, and on another without failing", () => {
    type Fake = { stream: { destroy: jest.Mock }; destroy: jest.Mock; _pool?: unknown };
    // As mysql2 does: a destroyed connection leaves its pool's list, and forgets its pool.
    const inPool = (pool: { _freeConnections: Fake[] }, count: number): Fake[] =>
      Array.from({ length: count }, () => {
        const connection: Fake = { stream: { destroy: jest.fn() }, destroy: jest.fn(), _pool: pool };
        connection.destroy.mockImplementation(() => {
          pool._freeConnections.splice(pool._freeConnections.indexOf(connection), 1);
          connection._pool = null;
        });
        return connection;
      });
    const denque = (items: Fake[]) => Object.assign(items, { get: (index: number) => items[index] });

    const pool = { _freeConnections: denque([]) as Fake[] };
    const idle = inPool(pool, 3);
    pool._freeConnections.push(...idle);
    const [stalled] = inPool(pool, 1);
    mysqlDialect.destroyStalled({ databaseConnection: stalled } as unknown as QueryRunner);
    for (const connection of [stalled, ...idle]) expect(connection.stream.destroy).toHaveBeenCalled();

    // The legacy mysql package keeps a plain array: the stalled one is closed all the same.
    const legacy = { _freeConnections: [] as Fake[] };
    const [alone] = inPool(legacy, 1);
    expect(() => mysqlDialect.destroyStalled({ databaseConnection: alone } as unknown as QueryRunner)).not.toThrow();
    expect(alone.stream.destroy).toHaveBeenCalled();
  });

  it('better-sqlite3: prepares each statement once per database, and runs it for rows or for a row count', async () => {
    // The driver TypeORM loads (it ships no types of its own).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as new (
      file: string,
      options?: { timeout?: number },
    ) => {
      exec(sql: string): void;
      prepare(sql: string): { get(): unknown };
      close(): void;
    };
    const database = new Database(':memory:', { timeout: 1234 });
    database.exec('CREATE TABLE t (a TEXT)');
    const prepare = jest.spyOn(database, 'prepare');
    const execute = betterSqlite3Dialect.executePrepared!;
    await expect(execute(database, 'INSERT INTO t (a) VALUES (?)', ['x'])).resolves.toEqual({ records: [], affected: 1 });
    await expect(execute(database, 'INSERT INTO t (a) VALUES (?)', ['y'])).resolves.toEqual({ records: [], affected: 1 });
    await expect(execute(database, 'UPDATE t SET a = ? WHERE a = ? RETURNING a', ['z', 'y'])).resolves.toEqual({ records: [{ a: 'z' }] });
    await expect(execute(database, 'SELECT a FROM t ORDER BY a', [])).resolves.toEqual({ records: [{ a: 'x' }, { a: 'z' }] });
    // By message: the addon makes its errors with the SqliteError class of the first test file
    // that loaded it, from another realm than this file's Error (so not `toThrow`).
    await expect(execute(database, 'SELECT missing FROM t', [])).rejects.toMatchObject({
      message: expect.stringContaining('no such column'),
    });
    const prepared = prepare.mock.calls.map(([sql]) => sql).filter((sql) => !sql.startsWith('PRAGMA busy_timeout'));
    expect(prepared).toHaveLength(4); // the INSERT once for both rows; the failed SELECT too
    // Each ran without a busy timeout (another connection's lock waited for off the thread);
    // the host's is back after each, failed or not.
    expect(database.prepare('PRAGMA busy_timeout').get()).toEqual({ timeout: 1234 });
    // Another database prepares its own.
    const other = new Database(':memory:');
    await expect(execute(other, 'SELECT 1 AS one', [])).resolves.toEqual({ records: [{ one: 1 }] });
    database.close();
    other.close();
  });

  it('SQLite: a lock held past the busy timeout is a timeout, no transactions of the module, counts kept by the module', () => {
    for (const dialect of [sqliteDialect, betterSqlite3Dialect]) {
      for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']) expect(dialect.faultOf({ code })).toBe('timeout');
      expect(dialect.faultOf({ code: 'SQLITE_CONSTRAINT_UNIQUE' })).toBeUndefined();
      expect(dialect.ownTransactions).toBe(false);
      expect(dialect.keepCounts).toBeDefined();
    }
    // Statements without a pooled connection's deadline: only where they run synchronously.
    expect([betterSqlite3Dialect, sqliteDialect, postgresDialect, mysqlDialect].map((dialect) => dialect.embedded)).toEqual([
      true,
      undefined,
      undefined,
      undefined,
    ]);
    expect([postgresDialect, mysqlDialect].map((dialect) => [dialect.ownTransactions, dialect.keepCounts])).toEqual([
      [true, undefined],
      [true, undefined],
    ]);
  });

  it('finds rows first only where the module has transactions of its own (a lost race is retried in one)', () => {
    for (const dialect of DIALECTS) if (dialect.findsRowFirst) expect(dialect.ownTransactions).toBe(true);
  });

  it('finds the driver error inside TypeORM’s QueryFailedError only', () => {
    const driverError = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(driverErrorOf(new QueryFailedError('INSERT', [], driverError))).toBe(driverError);
    expect(driverErrorOf(driverError)).toBeUndefined();
  });
});

describe('the statements each dialect writes', () => {
  it('PostgreSQL: numbered placeholders, double quotes, UPDATE … RETURNING stepping updated_at past the stored value', async () => {
    const sql = await statementsFor({ type: 'postgres' });
    expect(sql.insert).toBe(
      'INSERT INTO "opportunity_lost_reason" ("tenant_id", "id", "created_at", "updated_at", "lost_reason") VALUES ($1, $2, $3, $4, $5)',
    );
    expect(sql.updateAdvancing.withLostReason).toBe(
      'UPDATE "opportunity_lost_reason" SET "updated_at" = GREATEST($1, to_char("updated_at"::timestamp + interval \'1 millisecond\', ' +
        '\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\')), "lost_reason" = $2 WHERE "id" = $3 AND "tenant_id" = $4 ' +
        'RETURNING "id" AS "id", "created_at" AS "created_at", "updated_at" AS "updated_at", "lost_reason" AS "lost_reason"',
    );
    expect(sql.count).toBe('SELECT (SELECT COUNT(*) FROM "opportunity_lost_reason" WHERE "tenant_id" = $1) AS "total"');
  });

  it('MySQL/MariaDB: backticks and ? placeholders; no UPDATE … RETURNING, writes by primary key instead', async () => {
    const sql = await statementsFor({ type: 'mariadb', database: 'crm' });
    expect(sql.updateAdvancing).toEqual({ withLostReason: '', timestampOnly: '' });
    expect(sql.updateBySeqIfUnchanged.timestampOnly).toBe(
      'UPDATE `opportunity_lost_reason` SET `updated_at` = ? WHERE `seq` = ? AND `tenant_id` = ? AND `updated_at` = ?',
    );
    expect(sql.lockBySeq).toMatch(/ FROM `opportunity_lost_reason` WHERE `seq` = \? AND `tenant_id` = \? FOR UPDATE$/);
  });

  it('MariaDB Galera: every plain read with the causal-read prefix, and no write or locking read', async () => {
    const prefix = 'SET STATEMENT wsrep_sync_wait = 1 FOR ';
    const sql = await statementsFor({ type: 'mariadb', database: 'crm' }, undefined, prefix);
    const reads = [
      sql.retrieve,
      sql.firstPage,
      sql.pageAtOffset,
      sql.count,
      sql.cursorPosition,
      sql.pageNextTo.after,
      sql.pageNextTo.before,
    ];
    for (const read of reads) expect(read.startsWith(`${prefix}SELECT `)).toBe(true);
    const others = [
      sql.insert,
      sql.delete,
      sql.deleteBySeq,
      sql.lockBySeq,
      sql.updateBySeq.withLostReason,
      sql.updateBySeqIfUnchanged.timestampOnly,
    ];
    for (const other of others) expect(other).not.toContain('wsrep_sync_wait');
  });

  it('SQLite: MAX over strftime to step updated_at; the count from the count table when there is one', async () => {
    const sql = await statementsFor({ type: 'better-sqlite3', database: ':memory:' }, 'opportunity_lost_reason_count');
    expect(sql.updateAdvancing.timestampOnly).toBe(
      'UPDATE "opportunity_lost_reason" SET "updated_at" = MAX(?, COALESCE(strftime(\'%Y-%m-%dT%H:%M:%fZ\', "updated_at", \'+0.001 seconds\'), \'\')) ' +
        'WHERE "id" = ? AND "tenant_id" = ? RETURNING "id" AS "id", "created_at" AS "created_at", "updated_at" AS "updated_at", "lost_reason" AS "lost_reason"',
    );
    expect(sql.count).toBe('SELECT (SELECT COALESCE(SUM("n"), 0) FROM "opportunity_lost_reason_count" WHERE "tenant_id" = ?) AS "total"');
  });
});

describe('how many statements each data source runs at once', () => {
  it.each([
    [postgresDialect, { type: 'postgres' }, 10],
    [postgresDialect, { type: 'postgres', poolSize: 25 }, 25],
    [postgresDialect, { type: 'postgres', poolSize: 25, extra: { max: 4 } }, 4],
    [mysqlDialect, { type: 'mariadb' }, 10],
    [mysqlDialect, { type: 'mysql', poolSize: 30 }, 30],
    [mysqlDialect, { type: 'mysql', extra: { connectionLimit: 3 } }, 3],
    [betterSqlite3Dialect, { type: 'better-sqlite3', database: ':memory:' }, 10],
  ] as Array<[LostReasonDialect, DataSourceOptions, number]>)('case %#: the pool size the driver uses', (dialect, options, expected) => {
    expect(dialect.concurrencyOf(options)).toBe(expected);
  });
});
