import { BadRequestException, ForbiddenException, HttpException, UnauthorizedException } from '@nestjs/common';
import { AuthenticationException, InvalidRequestException, LostReasonNotFoundException } from './exceptions';
import { toLostReasonErrorResponse } from './lost-reason-exception.filter';

describe('toLostReasonErrorResponse', () => {
  it('keeps the module\'s own errors as they are', () => {
    expect(toLostReasonErrorResponse(new InvalidRequestException('bad', 'limit'))).toEqual({
      status: 400,
      body: { error: { type: 'invalid_request_error', message: 'bad', param: 'limit' } },
    });
    expect(toLostReasonErrorResponse(new LostReasonNotFoundException('opportunity-lost-reason_x'))).toEqual({
      status: 404,
      body: {
        error: {
          type: 'invalid_request_error',
          message: "No such opportunity-lost-reason: 'opportunity-lost-reason_x'",
          param: 'id',
          code: 'resource_missing',
        },
      },
    });
    expect(toLostReasonErrorResponse(new AuthenticationException()).body.error.type).toBe('authentication_error');
  });

  it('does not echo an id that is too long to be one', () => {
    expect(toLostReasonErrorResponse(new LostReasonNotFoundException('x'.repeat(5000))).body.error.message).toBe(
      'No such opportunity-lost-reason',
    );
  });

  it('maps other client errors by status', () => {
    expect(toLostReasonErrorResponse(new UnauthorizedException())).toEqual({
      status: 401,
      body: { error: { type: 'authentication_error', message: 'Invalid API key provided.' } },
    });
    expect(toLostReasonErrorResponse(new ForbiddenException('No access')).body).toEqual({
      error: { type: 'invalid_request_error', message: 'No access' },
    });
    expect(toLostReasonErrorResponse(new BadRequestException(['a', 'b'])).body.error.message).toBe(
      'The request could not be processed.',
    );
  });

  it('maps body-parser errors: malformed JSON and oversized bodies', () => {
    const syntax = Object.assign(new SyntaxError('Unexpected token } in JSON at position 7'), { status: 400 });
    expect(toLostReasonErrorResponse(syntax)).toEqual({
      status: 400,
      body: { error: { type: 'invalid_request_error', message: 'The request body is not valid JSON.' } },
    });
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, statusCode: 413 });
    expect(toLostReasonErrorResponse(tooLarge).status).toBe(413);
  });

  it('hides everything about unexpected errors', () => {
    const leak = new Error('select * from "opportunity_lost_reason" where password=\'hunter2\'');
    const { status, body } = toLostReasonErrorResponse(leak);
    expect(status).toBe(500);
    expect(body).toEqual({ error: { type: 'api_error', message: expect.any(String) } });
    expect(JSON.stringify(body)).not.toMatch(/select|hunter2/);
    expect(toLostReasonErrorResponse(new HttpException('db password is x', 503)).body.error.message).not.toMatch(/password/);
    expect(toLostReasonErrorResponse('a string').status).toBe(500);
    expect(toLostReasonErrorResponse(null).status).toBe(500);
  });
});
