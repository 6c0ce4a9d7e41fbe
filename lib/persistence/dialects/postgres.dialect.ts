import { createHash } from 'node:crypto';
import { ConstraintViolation, DatabaseFault, DriverError, LostReasonDialect, PreparedResult } from './dialect.interface';
import type { DataSourceOptions } from 'typeorm';

/** SQLSTATEs of a connection that failed, a server shutting down or out of connections. */
const UNAVAILABLE_CODES = new Set(['08000', '08001', '08003', '08004', '08006', '08007', '57P01', '57P02', '57P03', '53300']);
/** query_canceled (statement_timeout), lock_not_available (lock_timeout), deadlock_detected, serialization_failure. */
const TIMEOUT_CODES = new Set(['57014', '55P03', '40P01', '40001']);
/** pg's and pg-pool's connection failures, which carry no code; and a pool ended by the host's shutdown. */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end on the pool)/;
/** SQLSTATEs of class 23 (integrity constraint violation) and what each means to the module. */
const VIOLATIONS = new Map<unknown, ConstraintViolation['kind']>([
  ['23505', 'duplicate'], // unique_violation
  ['23503', 'foreign-key'], // foreign_key_violation
  ['23514', 'check'], // check_violation
  ['23502', 'check'], // not_null_violation
]);

/** pg's client-side `query_timeout`. */
const TIMEOUT_MESSAGE = /^Query read timeout$/;

/** pg's Client keeps its socket at `connection.stream`. */
type PgConnection = { connection?: { stream?: { destroy?: () => void } } };
/** pg-pool's connections, and the idle ones among them. */
type PgPool = { _clients?: unknown[]; _idle?: Array<{ client: PgConnection }> };

type PgClient = {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[]; rowCount: number | null }>;
};

/**
 * The name of each statement text's named (prepared) statement. pg prepares a name once per
 * connection and then only executes it, and one name must always mean one text: the name comes
 * from the text itself, so that two copies of the module in one process agree, and a generation
 * after a stale plan.
 */
const statementNames = new Map<string, string>();
const generations = new Map<string, number>();
const nameOf = (text: string): string => {
  let name = statementNames.get(text);
  if (!name) {
    const generation = generations.get(text) ?? 0;
    name = `lost_reason_${createHash('sha256').update(text).digest('hex').slice(0, 24)}${generation ? `_${generation}` : ''}`;
    statementNames.set(text, name);
  }
  return name;
};

/**
 * "cached plan must not change result type": the table changed shape under a connection's
 * prepared statement (a migration altered a column). Under a new name, it is prepared afresh.
 */
const isStalePlan = ({ code, message }: DriverError): boolean =>
  code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');

async function executeNamed(client: PgClient, text: string, values: unknown[]): Promise<PreparedResult> {
  const execute = async (): Promise<PreparedResult> => {
    const { rows, rowCount } = await client.query({ name: nameOf(text), text, values });
    return { records: rows, affected: rowCount ?? undefined };
  };
  try {
    return await execute();
  } catch (error) {
    if (!isStalePlan(error as DriverError)) throw error;
    generations.set(text, (generations.get(text) ?? 0) + 1);
    statementNames.delete(text);
    return execute();
  }
}

/** PostgreSQL, through the `pg` driver. */
export const postgresDialect: LostReasonDialect = {
  name: 'PostgreSQL',
  driverTypes: ['postgres'],
  ownTransactions: true,
  findsRowFirst: false,

  // The module writes UTC ISO 8601 text with milliseconds, which compares in time order. Read as
  // a zone-less timestamp, so the session's time zone cannot shift it. A concurrent update of the
  // row is waited for, and the SET evaluated again on the row it wrote: each update steps past.
  advancedTimestamp: (column) => `GREATEST(?, to_char(${column}::timestamp + interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`,

  async hasTrigger(runner, table, trigger) {
    const found: unknown[] = await runner.query('SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2', [
      table.quotedPath,
      trigger,
    ]);
    return found.length > 0;
  },

  executePrepared: (client, text, values) => executeNamed(client as PgClient, text, values),

  // TypeORM gives pg's pool `poolSize` as `max`, `extra` over it; pg's own default is 10.
  concurrencyOf: ({ poolSize, extra }: DataSourceOptions & { extra?: { max?: number } }) => extra?.max ?? poolSize ?? 10,

  destroyStalled(runner) {
    // pg-pool hands out its idle clients without checking them (the newest first): each dead one
    // would cost a request its deadline. A closed client leaves its pool on its 'error'. The
    // stalled client's pool is the primary's or a replica's, whichever holds it.
    const stalled = (runner as { databaseConnection?: PgConnection }).databaseConnection;
    const { master, slaves = [] } = runner.connection.driver as unknown as { master?: PgPool; slaves?: PgPool[] };
    const pool = stalled && [master, ...slaves].find((candidate) => candidate?._clients?.includes(stalled));
    for (const client of [stalled, ...(pool?._idle ?? []).map((idle) => idle.client)]) client?.connection?.stream?.destroy?.();
  },

  violationOf({ code, constraint, column }) {
    const kind = VIOLATIONS.get(code);
    if (kind === undefined) return undefined;
    // pg names the constraint, or for a not-null violation the column.
    const named = constraint ?? column;
    return { kind, ...(typeof named === 'string' && { constraint: named }) };
  },
  // character_not_in_repertoire, untranslatable_character
  isUnstorable: ({ code }) => code === '22021' || code === '22P05',

  // deadlock_detected, serialization_failure
  isConflict: ({ code }) => code === '40P01' || code === '40001',

  faultOf({ code, message }: DriverError): DatabaseFault | undefined {
    if (typeof code === 'string') {
      if (UNAVAILABLE_CODES.has(code)) return 'unavailable';
      if (TIMEOUT_CODES.has(code)) return 'timeout';
    }
    if (typeof message === 'string') {
      if (UNAVAILABLE_MESSAGE.test(message)) return 'unavailable';
      if (TIMEOUT_MESSAGE.test(message)) return 'timeout';
    }
    return undefined;
  },
};
