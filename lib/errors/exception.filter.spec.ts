import { BadRequestException, ForbiddenException, HttpException, UnauthorizedException } from '@nestjs/common';
import { TimeoutError, firstValueFrom, NEVER, timeout } from 'rxjs';
import { QueryFailedError } from 'typeorm';
import { AuthenticationException, InvalidRequestException, LostReasonNotFoundException } from '.';
import { lostReasonErrorLogLine } from './error-log.formatter';
import { INVALID_JSON_MESSAGE, toLostReasonErrorResponse } from './error-response.mapper';

const ID = 'req_0123456789abcdefghij';

describe('toLostReasonErrorResponse', () => {
  it("keeps the module's own errors as they are", () => {
    expect(toLostReasonErrorResponse(new InvalidRequestException('bad', 'limit'), ID)).toEqual({
      status: 400,
      body: { error: { type: 'invalid_request_error', message: 'bad', param: 'limit', request_id: ID } },
    });
    expect(toLostReasonErrorResponse(new LostReasonNotFoundException('opportunity-lost-reason_x'), ID)).toEqual({
      status: 404,
      body: {
        error: {
          type: 'invalid_request_error',
          message: "No such opportunity-lost-reason: 'opportunity-lost-reason_x'",
          param: 'id',
          code: 'resource_missing',
          request_id: ID,
        },
      },
    });
    expect(toLostReasonErrorResponse(new AuthenticationException(), ID).body.error.type).toBe('authentication_error');
  });

  it('does not echo an id that is too long to be one', () => {
    expect(toLostReasonErrorResponse(new LostReasonNotFoundException('x'.repeat(5000)), ID).body.error.message).toBe(
      'No such opportunity-lost-reason',
    );
  });

  it('maps other client errors by status', () => {
    expect(toLostReasonErrorResponse(new UnauthorizedException(), ID)).toEqual({
      status: 401,
      body: { error: { type: 'authentication_error', message: 'Invalid API key provided.', request_id: ID } },
    });
    expect(toLostReasonErrorResponse(new ForbiddenException('No access'), ID).body).toEqual({
      error: { type: 'invalid_request_error', message: 'No access', request_id: ID },
    });
    expect(toLostReasonErrorResponse(new BadRequestException(['a', 'b']), ID).body.error.message).toBe(
      'The request could not be processed.',
    );
  });

  it('maps body-parser errors: malformed JSON and oversized bodies', () => {
    const syntax = Object.assign(new SyntaxError('Unexpected token } in JSON at position 7'), { status: 400 });
    expect(toLostReasonErrorResponse(syntax, ID)).toEqual({
      status: 400,
      body: { error: { type: 'invalid_request_error', message: INVALID_JSON_MESSAGE, request_id: ID } },
    });
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, statusCode: 413 });
    expect(toLostReasonErrorResponse(tooLarge, ID).status).toBe(413);
  });

  it('hides everything about unexpected errors', () => {
    const leak = new Error('select * from "opportunity_lost_reason" where password=\'hunter2\'');
    const { status, body } = toLostReasonErrorResponse(leak, ID);
    expect(status).toBe(500);
    expect(body).toEqual({ error: { type: 'api_error', message: expect.any(String), request_id: ID } });
    expect(JSON.stringify(body)).not.toMatch(/select|hunter2/);
    expect(toLostReasonErrorResponse(new HttpException('db password is x', 503), ID).body.error.message).not.toMatch(/password/);
    expect(toLostReasonErrorResponse('a string', ID).status).toBe(500);
    expect(toLostReasonErrorResponse(null, ID).status).toBe(500);
  });

  it("never repeats the request's credentials in a host exception's message", () => {
    const key = 'sk_live_4eC39HqLyjWDarjt';
    const forbidden = new ForbiddenException(`Key ${key} is revoked`);
    const { body } = toLostReasonErrorResponse(forbidden, ID, `Bearer ${key}`);
    expect(body.error).toEqual({ type: 'invalid_request_error', message: 'Key [REDACTED] is revoked', request_id: ID });
  });
});

describe('toLostReasonErrorResponse: database faults', () => {
  const UNAVAILABLE = { type: 'api_error', message: 'The database is unavailable; retry.', request_id: ID };
  const TIMED_OUT = { type: 'api_error', message: 'The database did not answer in time; retry.', request_id: ID };
  const withCode = (message: string, fields: object) => Object.assign(new Error(message), fields);
  /** TypeORM's wrapper of a failed statement, as the service sees it. */
  const failedQuery = (driverError: Error) => new QueryFailedError('INSERT INTO "opportunity_lost_reason" VALUES ($1)', ['x'], driverError);

  it('answers the request deadline (rxjs TimeoutError from withinDeadline) with a 503', async () => {
    const deadline = await firstValueFrom(NEVER.pipe(timeout({ first: 1 }))).catch((error: unknown) => error);
    expect(deadline).toBeInstanceOf(TimeoutError);
    expect(toLostReasonErrorResponse(deadline, ID)).toEqual({ status: 503, body: { error: TIMED_OUT } });
  });

  it.each([
    [
      'a refused connection (both drivers)',
      withCode('connect ECONNREFUSED 10.0.0.5:5432', { code: 'ECONNREFUSED', errno: -111, address: '10.0.0.5', port: 5432 }),
    ],
    ['a reset socket', withCode('read ECONNRESET', { code: 'ECONNRESET' })],
    ['a connect timeout (mysql2)', withCode('connect ETIMEDOUT', { code: 'ETIMEDOUT', fatal: true })],
    ['a broken pipe', withCode('write EPIPE', { code: 'EPIPE' })],
    ['an unreachable host', withCode('connect EHOSTUNREACH 10.0.0.5:3306', { code: 'EHOSTUNREACH' })],
    [
      'a lost connection (mysql2)',
      withCode('Connection lost: The server closed the connection.', { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }),
    ],
    ['too many connections (MariaDB)', withCode('Too many connections', { code: 'ER_CON_COUNT_ERROR', errno: 1040, sqlState: '08004' })],
    [
      'a shutting-down server (PostgreSQL 57P01)',
      withCode('terminating connection due to administrator command', { code: '57P01', severity: 'FATAL' }),
    ],
    ['too many clients (PostgreSQL 53300)', withCode('sorry, too many clients already', { code: '53300' })],
    ['a connection failure (PostgreSQL 08006)', withCode('connection failure', { code: '08006' })],
    ['pg: a connection that ended', new Error('Connection terminated unexpectedly')],
    [
      'pg-pool: a connect timeout',
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated') }),
    ],
    ['pg-pool: waiting for a client too long', new Error('timeout exceeded when trying to connect')],
    ['pg: a client that is not queryable', new Error('Client has encountered a connection error and is not queryable')],
    ['mysql2: a closed connection', new Error("Can't add new command when connection is in closed state")],
    [
      'Node: every address refused (AggregateError)',
      Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', { code: 'ECONNREFUSED' })], ''), {
        code: 'ECONNREFUSED',
      }),
    ],
  ])('answers %s with a 503 that says nothing of the cause', (_label, error) => {
    for (const exception of [error, failedQuery(error), new Error('wrapped', { cause: error })]) {
      const { status, body } = toLostReasonErrorResponse(exception, ID);
      expect(status).toBe(503);
      expect(body).toEqual({ error: UNAVAILABLE });
    }
  });

  it.each([
    ['PostgreSQL statement_timeout (57014)', withCode('canceling statement due to statement timeout', { code: '57014' })],
    ['PostgreSQL lock_timeout (55P03)', withCode('canceling statement due to lock timeout', { code: '55P03' })],
    [
      'InnoDB lock wait timeout',
      withCode('Lock wait timeout exceeded; try restarting transaction', { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }),
    ],
    [
      'MariaDB max_statement_time',
      withCode('Query execution was interrupted (max_statement_time exceeded)', { code: 'ER_STATEMENT_TIMEOUT', errno: 1969 }),
    ],
    ['pg query_timeout', new Error('Query read timeout')],
    // A host transaction and a module write (or their count triggers) can deadlock: retryable.
    ['PostgreSQL deadlock_detected (40P01)', withCode('deadlock detected', { code: '40P01' })],
    ['PostgreSQL serialization_failure (40001)', withCode('could not serialize access due to concurrent update', { code: '40001' })],
    [
      'InnoDB deadlock',
      withCode('Deadlock found when trying to get lock; try restarting transaction', { code: 'ER_LOCK_DEADLOCK', errno: 1213 }),
    ],
  ])('answers a statement the database gave up on (%s) with a 503', (_label, error) => {
    expect(toLostReasonErrorResponse(failedQuery(error), ID)).toEqual({ status: 503, body: { error: TIMED_OUT } });
  });

  it('keeps a 500 for other database errors and for look-alike text in other places', () => {
    const unique = withCode('duplicate key value violates unique constraint', { code: '23505' });
    const syntax = withCode('You have an error in your SQL syntax', { code: 'ER_PARSE_ERROR', errno: 1064 });
    for (const error of [
      unique,
      syntax,
      failedQuery(unique),
      failedQuery(syntax),
      new Error('ECONNREFUSED mentioned in the middle'),
      new Error('boom: Connection terminated'),
    ]) {
      expect(toLostReasonErrorResponse(error, ID).status).toBe(500);
    }
    // A cycle of causes ends the search.
    const cyclic: Error & { cause?: unknown } = new Error('a');
    cyclic.cause = new Error('b', { cause: cyclic });
    expect(toLostReasonErrorResponse(cyclic, ID).status).toBe(500);
  });

  it('keeps client errors as they are, even with a code that looks like a fault', () => {
    const badJson = Object.assign(new SyntaxError('Unexpected end of JSON input'), { status: 400, code: 'ECONNRESET' });
    expect(toLostReasonErrorResponse(badJson, ID).status).toBe(400);
  });

  it('leaks neither the connection string nor the SQL of a fault', () => {
    const error = withCode('connect ECONNREFUSED 127.0.0.1:5432 (postgres://app:s3cret@db.internal:5432/crm)', { code: 'ECONNREFUSED' });
    const text = JSON.stringify(toLostReasonErrorResponse(failedQuery(error), ID).body);
    expect(text).not.toMatch(/postgres:|s3cret|ECONN|INSERT|5432/);
  });
});

describe('lostReasonErrorLogLine', () => {
  const key = 'sk_live_4eC39HqLyjWDarjt';
  const request = {
    method: 'GET',
    url: `/api/crm/opportunity-lost-reason?limit=5&api_key=${key}`,
    headers: { authorization: `Bearer ${key}` },
  };

  it('starts with the request id, the method and the path without its query string', () => {
    const line = lostReasonErrorLogLine(request, ID, new Error('boom'));
    expect(line).toMatch(new RegExp(`^\\[${ID}\\] GET /api/crm/opportunity-lost-reason failed: Error: boom\\n    at `));
    expect(line).not.toContain('limit=5');
  });

  it("redacts the request's key and any bearer token from the stack and message", () => {
    const line = lostReasonErrorLogLine(request, ID, new Error(`vault refused ${key}; header was Bearer sk_other_123`));
    expect(line).toContain('vault refused [REDACTED]; header was Bearer [REDACTED]');
    expect(line).not.toMatch(/sk_live|sk_other/);
    expect(lostReasonErrorLogLine({ ...request, headers: { authorization: key } }, ID, `bare ${key}`)).toContain('bare [REDACTED]');
  });
});
