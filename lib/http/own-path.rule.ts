import { HttpException, VersioningType } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { pathOf } from '../common/url-path.util';
import { invalidRequestWithStatus } from '../errors';
import { announcesBody } from './json-content-type.rule';

/** The 404 of a method and path the module has no route for (its error shape, like Stripe's). */
export const unrecognizedRequestUrl = (request: { method?: string; url?: string }): HttpException =>
  invalidRequestWithStatus(404, `Unrecognized request URL (${request.method ?? '?'}: ${pathOf(request.url)}).`);

/**
 * The unknown-URL 404 of a request on the module's path, or undefined: the one rule of both
 * adapters. A request the adapter found no route for (`routed` false) is one; so is a routed one
 * whose path ends in `/`: Express routes `/path/` like `/path`, Fastify does not (unless told to).
 */
export function unknownUrlOf(request: { method?: string; url?: string }, routed: boolean): HttpException | undefined {
  return routed && !pathOf(request.url).endsWith('/') ? undefined : unrecognizedRequestUrl(request);
}

/**
 * The 400 of a request the module refuses the same way on both adapters, if it is one: a fragment
 * in the request target (RFC 9112 has none there; Express dropped it, Fastify read it as a query
 * parameter), or a body on GET or HEAD. Such a body has no meaning: a client sending its list
 * parameters there would get an unfiltered list without a word (Express parsed it, Fastify
 * ignored it), so it is refused as Stripe refuses parameters it does not take.
 */
export function malformedRequest(request: { method?: string; url?: string; headers?: Record<string, unknown> }): HttpException | undefined {
  if (request.url?.includes('#')) return invalidRequestWithStatus(400, 'The request target must not contain a fragment (#).');
  if ((request.method === 'GET' || request.method === 'HEAD') && announcesBody(request.headers ?? {})) {
    return invalidRequestWithStatus(400, `A ${request.method} request takes no body: send its parameters in the query string.`);
  }
  return undefined;
}

/**
 * The path as routers compare it: percent-encoded characters decoded (when well-formed), except
 * the reserved ones (`%2F` stays, as routers keep it).
 */
export function decodedPathOf(url: string): string {
  const path = pathOf(url);
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a request is on the module's path, remembered on the request: Fastify asks in up to three hooks. */
const IS_OWN = Symbol('lostReasonOwnPath');

/**
 * The module's own paths: `/<global prefix>/<URI version>/<path>` and anything below it. The
 * prefix is optional (the host may exclude routes from it); on Express in any case, as Express
 * routes paths case-insensitively (Fastify does not).
 */
export class OwnPath {
  private readonly pattern: RegExp;

  constructor(path: string, config: Pick<ApplicationConfig, 'getGlobalPrefix' | 'getVersioning'>, caseInsensitive: boolean) {
    const prefix = config.getGlobalPrefix().replace(/^\/+|\/+$/g, '');
    const versioning = config.getVersioning();
    const versionPrefix =
      versioning?.type === VersioningType.URI ? (versioning.prefix === false ? '' : (versioning.prefix ?? 'v')) : undefined;
    const version = versionPrefix === undefined ? '' : `(?:/${escapeRegExp(versionPrefix)}[^/]+)?`;
    const prefixed = prefix ? `(?:/${escapeRegExp(prefix)})?` : '';
    this.pattern = new RegExp(`^${prefixed}${version}/${escapeRegExp(path)}(?:/[\\s\\S]*)?$`, caseInsensitive ? 'i' : '');
  }

  /** Whether `request` is on the module's path, decoded as routers decode it. */
  includes(request: { url: string; [IS_OWN]?: boolean }): boolean {
    return (request[IS_OWN] ??= this.pattern.test(decodedPathOf(request.url)));
  }
}
