import { Logger } from '@nestjs/common';
import { requestIdOf } from '../common/request-id.util';
import { InvalidRequestException } from '.';
import { lostReasonErrorReply, ReplyingAdapter, sendErrorReply } from './error-reply';

describe('lostReasonErrorReply, the one error reply of the filter and both adapters', () => {
  const key = 'sk_live_4eC39HqLyjWDarjt';
  const logger = () => {
    const log = new Logger('test');
    jest.spyOn(log, 'error').mockImplementation(() => undefined);
    return log;
  };

  it("answers with the request's id in the body and the header, and logs nothing for a 4xx", () => {
    const request = { method: 'POST', url: '/lost-reasons', headers: {} };
    const log = logger();
    const reply = lostReasonErrorReply(new InvalidRequestException('bad', 'limit'), request, log);
    const id = requestIdOf(request);
    expect(reply).toEqual({
      status: 400,
      headers: [['Request-Id', id]],
      body: { error: { type: 'invalid_request_error', message: 'bad', param: 'limit', request_id: id } },
    });
    expect(log.error).not.toHaveBeenCalled();
  });

  it("logs a 5xx's cause with the request's id, without the request's key, and answers nothing of it", () => {
    const request = { method: 'GET', url: '/lost-reasons?x=1', headers: { authorization: `Bearer ${key}` } };
    const log = logger();
    const reply = lostReasonErrorReply(new Error(`vault refused ${key}`), request, log);
    expect(reply.status).toBe(500);
    expect(JSON.stringify(reply.body)).not.toContain('vault');
    const [line] = (log.error as jest.Mock).mock.calls[0] as [string];
    expect(line).toContain(`[${requestIdOf(request)}] GET /lost-reasons failed: Error: vault refused [REDACTED]`);
  });

  it('adds Retry-After to a 503, and sends status, headers and body through the adapter', () => {
    const request = { method: 'GET', url: '/lost-reasons', headers: {} };
    const reply = lostReasonErrorReply(Object.assign(new Error('gone'), { code: 'ECONNREFUSED' }), request, logger());
    expect(reply.status).toBe(503);
    expect(reply.headers).toEqual([
      ['Request-Id', requestIdOf(request)],
      ['Retry-After', '1'],
    ]);
    const sent: unknown[][] = [];
    const adapter: ReplyingAdapter = {
      setHeader: (...args) => sent.push(['header', ...args]),
      reply: (...args) => sent.push(['reply', ...args]),
    };
    const response = {};
    sendErrorReply(adapter, response, reply);
    expect(sent).toEqual([
      ['header', response, 'Request-Id', requestIdOf(request)],
      ['header', response, 'Retry-After', '1'],
      ['reply', response, reply.body, 503],
    ]);
  });
});
