import { TimeoutError } from 'rxjs';
import { QueryRunnerAlreadyReleasedError } from 'typeorm';
import { DatabaseFault, DriverError } from './dialects/dialect.interface';
import { DIALECTS } from './dialects/dialect.registry';

/** Node's socket errors, under every driver: the database could not be reached or the connection broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** A fault one error object names by itself: a socket's, or one a dialect recognises; by its code first, then by its message. */
function faultNamedBy(error: DriverError): DatabaseFault | undefined {
  // The module never runs a statement on a runner it released: TypeORM released it because its
  // connection broke (pg's runner does on the connection's 'error': a session ended by the server).
  if (error instanceof QueryRunnerAlreadyReleasedError) return 'unavailable';
  const { code, errno, message } = error;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'unavailable';
  for (const named of [{ code, errno }, { message }]) {
    for (const dialect of DIALECTS) {
      const fault = dialect.faultOf(named);
      if (fault) return fault;
    }
  }
  return undefined;
}

/**
 * Whether `exception` is a database fault worth a 503 rather than a 500: the module's request
 * deadline (rxjs `TimeoutError`), a connection-level driver error (or TypeORM's runner released
 * under a statement when its connection broke), or a statement the database
 * gave up on, also when wrapped (TypeORM's `QueryFailedError.driverError`, `cause`,
 * `AggregateError`). Every dialect is asked: an error does not say which data source it came from.
 */
export function databaseFaultOf(exception: unknown): DatabaseFault | undefined {
  if (exception instanceof TimeoutError) return 'timeout';
  const seen = new Set<unknown>();
  const pending: unknown[] = [exception];
  while (pending.length > 0 && seen.size < 16) {
    const error = pending.shift();
    if (typeof error !== 'object' || error === null || seen.has(error)) continue;
    seen.add(error);
    const fault = faultNamedBy(error as DriverError);
    if (fault) return fault;
    const { driverError, cause, errors } = error as Record<string, unknown>;
    pending.push(driverError, cause, ...(Array.isArray(errors) ? errors : []));
  }
  return undefined;
}
