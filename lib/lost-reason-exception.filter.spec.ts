import { BadRequestException, ForbiddenException, HttpException, UnauthorizedException } from '@nestjs/common';
import { AuthenticationException, InvalidRequestException, LostReasonNotFoundException } from './exceptions';
import { lostReasonErrorLogLine, toLostReasonErrorResponse } from './lost-reason-exception.filter';

const ID = 'req_0123456789abcdefghij';

describe('toLostReasonErrorResponse', () => {
  it('keeps the module\'s own errors as they are', () => {
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
      body: { error: { type: 'invalid_request_error', message: 'The request body is not valid JSON.', request_id: ID } },
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

  it('never repeats the request\'s credentials in a host exception\'s message', () => {
    const key = 'sk_live_4eC39HqLyjWDarjt';
    const forbidden = new ForbiddenException(`Key ${key} is revoked`);
    const { body } = toLostReasonErrorResponse(forbidden, ID, `Bearer ${key}`);
    expect(body.error).toEqual({ type: 'invalid_request_error', message: 'Key [REDACTED] is revoked', request_id: ID });
  });
});

describe('lostReasonErrorLogLine', () => {
  const key = 'sk_live_4eC39HqLyjWDarjt';
  const request = { method: 'GET', url: `/api/crm/opportunity-lost-reason?limit=5&api_key=${key}`, headers: { authorization: `Bearer ${key}` } };

  it('starts with the request id, the method and the path without its query string', () => {
    const line = lostReasonErrorLogLine(request, ID, new Error('boom'));
    expect(line).toMatch(new RegExp(`^\\[${ID}\\] GET /api/crm/opportunity-lost-reason failed: Error: boom\\n    at `));
    expect(line).not.toContain('limit=5');
  });

  it('redacts the request\'s key and any bearer token from the stack and message', () => {
    const line = lostReasonErrorLogLine(request, ID, new Error(`vault refused ${key}; header was Bearer sk_other_123`));
    expect(line).toContain('vault refused [REDACTED]; header was Bearer [REDACTED]');
    expect(line).not.toMatch(/sk_live|sk_other/);
    expect(lostReasonErrorLogLine({ ...request, headers: { authorization: key } }, ID, `bare ${key}`)).toContain('bare [REDACTED]');
  });
});
