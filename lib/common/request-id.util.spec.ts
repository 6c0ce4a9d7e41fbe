import { createRequestId, REQUEST_ID_PATTERN, requestIdOf } from './request-id.util';

describe('request ids', () => {
  it('are req_ and 20 base62 characters, all different', () => {
    const ids = Array.from({ length: 2000 }, createRequestId);
    for (const id of ids) expect(id).toMatch(REQUEST_ID_PATTERN);
    expect(new Set(ids).size).toBe(ids.length);
    // Every base62 character shows up: the alphabet is used whole.
    expect(new Set(ids.join('').replaceAll('req_', '')).size).toBe(62);
  });

  it("are created once per request, and Fastify's wrapper shares its raw request's id", () => {
    const raw = { headers: {} };
    const fastifyRequest = { raw, headers: {} };
    const id = requestIdOf(fastifyRequest);
    expect(requestIdOf(fastifyRequest)).toBe(id);
    expect(requestIdOf(raw)).toBe(id);
    expect(requestIdOf({ headers: {} })).not.toBe(id);
  });

  it('ignore an incoming Request-Id or X-Request-Id header', () => {
    const request = { headers: { 'request-id': 'req_client', 'x-request-id': 'req_client' } };
    expect(requestIdOf(request)).toMatch(REQUEST_ID_PATTERN);
  });
});
