import { HttpException } from '@nestjs/common';
import { UNSUPPORTED_MEDIA_TYPE_MESSAGE } from '../errors/error-response.mapper';
import { unsupportedMediaTypeOf } from './json-content-type.rule';

const statusOf = (refusal: HttpException | undefined) => refusal?.getStatus();

describe('unsupportedMediaTypeOf, the 415 rule of both adapters', () => {
  it('refuses with the module body and message', () => {
    const refusal = unsupportedMediaTypeOf({ 'content-type': 'text/plain', 'content-length': '5' }, 'route');
    expect(statusOf(refusal)).toBe(415);
    expect(refusal?.getResponse()).toEqual({ type: 'invalid_request_error', message: UNSUPPORTED_MEDIA_TYPE_MESSAGE });
  });

  it('at the route: a body announced (a length above 0, or chunks) in JSON and UTF-8 only', () => {
    const at = (headers: Record<string, unknown>) => statusOf(unsupportedMediaTypeOf(headers, 'route'));
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF8"']) {
      expect(at({ 'content-type': type, 'content-length': '2' })).toBeUndefined();
    }
    for (const type of ['text/plain', 'application/xml', 'application/json; charset=latin1', undefined]) {
      expect(at({ 'content-type': type, 'content-length': '2' })).toBe(415);
      expect(at({ 'content-type': type, 'transfer-encoding': 'chunked' })).toBe(415);
      // No body announced: no parameters, whatever the type says.
      expect(at({ 'content-type': type })).toBeUndefined();
      expect(at({ 'content-type': type, 'content-length': '0' })).toBeUndefined();
    }
  });

  it("at the adapter's parser: the charset decides (the type is the route's to check)", () => {
    const at = (contentType: unknown) => statusOf(unsupportedMediaTypeOf({ 'content-type': contentType, 'content-length': '0' }, 'parser'));
    for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain', undefined]) expect(at(type)).toBeUndefined();
    for (const type of ['application/json; charset=iso-8859-1', 'application/json; charset="utf-16"', 'text/plain; charset=latin1']) {
      expect(at(type)).toBe(415);
    }
  });
});
