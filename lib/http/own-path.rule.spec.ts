import { VersioningOptions, VersioningType } from '@nestjs/common';
import { pathOf } from '../common/url-path.util';
import { decodedPathOf, OwnPath, unknownUrlOf, unrecognizedRequestUrl } from './own-path.rule';

const config = (prefix = '', versioning?: VersioningOptions) => ({ getGlobalPrefix: () => prefix, getVersioning: () => versioning });
const on = (ownPath: OwnPath, url: string) => ownPath.includes({ url });

describe('the own-path rule', () => {
  it('covers the path and everything below it, nothing beside it', () => {
    const own = new OwnPath('api/crm/opportunity-lost-reason', config(), false);
    expect(on(own, '/api/crm/opportunity-lost-reason')).toBe(true);
    expect(on(own, '/api/crm/opportunity-lost-reason/opportunity-lost-reason_x?limit=1')).toBe(true);
    expect(on(own, '/api/crm/opportunity-lost-reason/')).toBe(true);
    expect(on(own, '/api/crm/opportunity-lost-reasons')).toBe(false);
    expect(on(own, '/api/crm')).toBe(false);
    expect(on(own, '/health')).toBe(false);
  });

  it('takes the global prefix as optional (hosts may exclude routes from it) and the URI version', () => {
    const own = new OwnPath('lost-reasons', config('/api/', { type: VersioningType.URI }), false);
    for (const url of ['/api/v1/lost-reasons', '/api/lost-reasons', '/v2/lost-reasons/x', '/lost-reasons']) expect(on(own, url)).toBe(true);
    expect(on(own, '/other/lost-reasons')).toBe(false);
    const unprefixedVersion = new OwnPath('lost-reasons', config('', { type: VersioningType.URI, prefix: false }), false);
    expect(on(unprefixedVersion, '/1/lost-reasons')).toBe(true);
  });

  it('matches in any case only where the router does (Express)', () => {
    expect(on(new OwnPath('lost-reasons', config(), true), '/Lost-Reasons')).toBe(true);
    expect(on(new OwnPath('lost-reasons', config(), false), '/Lost-Reasons')).toBe(false);
  });

  it('decodes percent-encoding as routers do, keeping %2F and malformed escapes', () => {
    const own = new OwnPath('lost-reasons', config(), false);
    expect(on(own, '/lost%2Dreasons')).toBe(true);
    expect(decodedPathOf('/a%2Fb?x=%41')).toBe('/a%2Fb');
    expect(decodedPathOf('/a%E0%A4%A')).toBe('/a%E0%A4%A');
    expect(pathOf(undefined)).toBe('');
  });

  it('treats regular-expression characters in the path literally', () => {
    const own = new OwnPath('a.b', config(), false);
    expect(on(own, '/a.b')).toBe(true);
    expect(on(own, '/axb')).toBe(false);
  });

  it('decides once per request', () => {
    const own = new OwnPath('lost-reasons', config(), false);
    const request = { url: '/lost-reasons' };
    expect(own.includes(request)).toBe(true);
    request.url = '/elsewhere';
    expect(own.includes(request)).toBe(true);
  });

  it('answers an unknown route with a 404 naming the method and the path, without the query', () => {
    const error = unrecognizedRequestUrl({ method: 'PUT', url: '/lost-reasons/x?secret=1' });
    expect(error.getStatus()).toBe(404);
    expect(error.getResponse()).toEqual({ type: 'invalid_request_error', message: 'Unrecognized request URL (PUT: /lost-reasons/x).' });
  });
});

describe('unknownUrlOf, the unknown-URL 404 of both adapters', () => {
  it('is the 404 of a request no route took, and of a routed one whose path ends in a slash', () => {
    const message = (url: string, routed: boolean) => unknownUrlOf({ method: 'GET', url }, routed)?.getResponse();
    expect(message('/lost-reasons/x/y?limit=1', false)).toEqual({
      type: 'invalid_request_error',
      message: 'Unrecognized request URL (GET: /lost-reasons/x/y).',
    });
    expect(unknownUrlOf({ method: 'GET', url: '/lost-reasons/x/y' }, false)?.getStatus()).toBe(404);
    expect(message('/lost-reasons/?limit=1', true)).toEqual({
      type: 'invalid_request_error',
      message: 'Unrecognized request URL (GET: /lost-reasons/).',
    });
    expect(unknownUrlOf({ method: 'GET', url: '/lost-reasons?limit=1/' }, true)).toBeUndefined();
    expect(unknownUrlOf({ method: 'GET', url: '/lost-reasons/x' }, true)).toBeUndefined();
  });
});
