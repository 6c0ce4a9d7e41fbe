import { HttpStatus, Inject, Injectable, Logger, OnModuleInit, VersioningType } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { AuthenticationException, invalidRequestWithStatus, unrecognizedRequestUrl } from '../errors';
import { LostReasonApiKeyGuard } from './api-key.guard';
import { LOST_REASON_RESOLVED_OPTIONS } from '../lost-reason.constants';
import {
  LostReasonErrorResponse,
  lostReasonErrorLogLine,
  RETRY_AFTER_SECONDS,
  toLostReasonErrorResponse,
  UNSUPPORTED_MEDIA_TYPE_MESSAGE,
} from '../errors/exception.filter';
import { isUtf8Json } from './json-body.decorator';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.util';
import { pathOf } from './own-path.rule';
import { ResolvedLostReasonOptions } from '../lost-reason.options';

interface IncomingRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  [OWN_ERROR]?: unknown;
  [IS_OWN]?: boolean;
}
type Next = (error?: unknown) => void;

/** The few Fastify members used here (fastify is the host's dependency, not the module's). */
interface FastifyLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
  initialConfig?: { bodyLimit?: number };
}
interface FastifyRequestLike {
  routeOptions?: { bodyLimit?: number };
}
/** Fastify's own default, for a version that tells neither limit. */
const DEFAULT_FASTIFY_BODY_LIMIT = 1024 * 1024;
interface FastifyReplyLike {
  statusCode: number;
  code(status: number): unknown;
  header(name: string, value: string): unknown;
}

const OWN_ERROR = Symbol('lostReasonError');
/** Whether a request is on the module's path, decided once: Fastify asks in up to three hooks. */
const IS_OWN = Symbol('lostReasonOwnPath');

/** A body stream Fastify reads, with the count of bytes received as sent (for Content-Length). */
type BodyStream = Readable & { receivedEncodedLength?: number };

const INFLATERS: Record<string, () => Transform> = { gzip: createGunzip, deflate: createInflate, br: createBrotliDecompress };

/** A `Content-Encoding` in lower case (`identity` when none); a 415 for one the module cannot decode. */
function knownEncoding(header: unknown): string {
  const name =
    String(header ?? '')
      .trim()
      .toLowerCase() || 'identity';
  if (name !== 'identity' && !INFLATERS[name]) {
    throw invalidRequestWithStatus(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `Content-Encoding "${String(header)}" is not supported: send identity, gzip, deflate or br.`,
    );
  }
  return name;
}

/**
 * The body Fastify parses, for a request that has one: inflated per its `Content-Encoding` (a
 * 415 for one the module does not know, a 400 for bytes that do not inflate, a 413 once the
 * inflated bytes pass `limit`: Fastify counts only what it reads), and a chunked body that turns
 * out empty read as `{}`, no parameters, as on Express. Fastify checks Content-Length against
 * `receivedEncodedLength`, the bytes as sent.
 */
function decodedBody(payload: BodyStream, name: string, chunked: boolean, limit: number): BodyStream {
  const inflate = name === 'identity' ? undefined : INFLATERS[name];
  if (!inflate && !chunked) return payload;
  let sent = 0;
  let decoded = 0;
  const body: Transform & { receivedEncodedLength?: number } = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      decoded += chunk.length;
      if (decoded > limit) return done(invalidRequestWithStatus(HttpStatus.PAYLOAD_TOO_LARGE, 'The request body is too large.'));
      done(null, chunk);
    },
    flush(done) {
      done(null, chunked && decoded === 0 ? '{}' : undefined);
    },
  });
  Object.defineProperty(body, 'receivedEncodedLength', { get: () => sent });
  const inflater = inflate?.();
  // Bytes that do not inflate are the client's error.
  inflater?.on('error', () => body.destroy(invalidRequestWithStatus(HttpStatus.BAD_REQUEST, `The body is not valid ${name} data.`)));
  payload.on('error', (error) => body.destroy(error));
  // A refusal stops the reading and the inflating, but leaves the request stream open: Fastify
  // answers on it (destroying it would reset the connection instead of the 413).
  body.once('error', () => {
    payload.unpipe();
    inflater?.destroy();
  });
  body.on('error', () => undefined); // Fastify listens while it reads; a late error must not crash the process
  if (inflater) payload.pipe(inflater).pipe(body);
  else payload.pipe(body);
  // After pipe(), in the same tick: alone, a 'data' listener would start the flow early and lose chunks.
  payload.on('data', (chunk: Buffer) => (sent += chunk.length));
  return body;
}

/**
 * The path as routers compare it: percent-encoded characters decoded (when well-formed), except
 * the reserved ones (`%2F` stays, as routers keep it).
 */
function decodedPathOf(url: string): string {
  const path = pathOf(url);
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Gives the module's error shape, on its own paths only, to what the HTTP adapter handles
 * outside the module's controller: body-parser failures (malformed JSON, oversized body,
 * unsupported media type) and methods or sub-paths that match no route. Adapters deal with
 * these before or after the route, so the controller's filter never sees them and, left
 * alone, they would reach the host's global filters. The API key is checked first, as the
 * routes do, so a request without valid credentials always learns only that (401).
 * Everything on the host's own paths passes through untouched.
 */
@Injectable()
export class LostReasonRouteFallback implements OnModuleInit {
  private readonly logger = new Logger('LostReasonModule');
  private ownPath = /$^/;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly applicationConfig: ApplicationConfig,
    private readonly apiKeyGuard: LostReasonApiKeyGuard,
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions,
  ) {}

  onModuleInit(): void {
    this.ownPath = this.buildOwnPath();
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() === 'express') this.onExpress();
    if (adapter?.getType() === 'fastify') this.onFastify(adapter.getInstance<FastifyLike>());
  }

  /**
   * `/<global prefix>/<URI version>/<path>` and anything below it, anchored at both ends; on
   * Express in any case, as Express routes paths case-insensitively (Fastify does not).
   */
  private buildOwnPath(): RegExp {
    const prefix = this.applicationConfig.getGlobalPrefix().replace(/^\/+|\/+$/g, '');
    const versioning = this.applicationConfig.getVersioning();
    const versionPrefix =
      versioning?.type === VersioningType.URI ? (versioning.prefix === false ? '' : (versioning.prefix ?? 'v')) : undefined;
    const version = versionPrefix === undefined ? '' : `(?:/${escapeRegExp(versionPrefix)}[^/]+)?`;
    // The prefix is optional: the host may exclude routes from it.
    const prefixed = prefix ? `(?:/${escapeRegExp(prefix)})?` : '';
    const anyCase = this.adapterHost.httpAdapter?.getType() === 'express' ? 'i' : '';
    return new RegExp(`^${prefixed}${version}/${escapeRegExp(this.options.path)}(?:/[\\s\\S]*)?$`, anyCase);
  }

  /** Whether the request is on the module's path, decoded as routers decode it (Fastify does). */
  private isOwn(request: IncomingRequest): boolean {
    return (request[IS_OWN] ??= this.ownPath.test(decodedPathOf(request.url)));
  }

  /** The error to answer with: the credentials' problem first, else `error`. */
  private async errorFor(request: IncomingRequest, error: unknown): Promise<unknown> {
    const authenticated = await this.apiKeyGuard.isAuthenticated(request);
    return authenticated ? error : new AuthenticationException();
  }

  /**
   * The module's answer to `error` on its path, with the request's id. A failing key check
   * (a host verifier that throws) is answered and logged here as a 500, like on the routes,
   * rather than handed to the host with a message that might hold the key.
   */
  private async answer(request: IncomingRequest, error: unknown): Promise<LostReasonErrorResponse & { requestId: string }> {
    const requestId = requestIdOf(request);
    let cause: unknown;
    try {
      cause = await this.errorFor(request, error);
    } catch (failure) {
      cause = failure;
    }
    const response = toLostReasonErrorResponse(cause, requestId, request.headers.authorization);
    if (response.status >= 500) this.logger.error(lostReasonErrorLogLine(request, requestId, cause));
    return { ...response, requestId };
  }

  /** Registered after the routes: the first runs when no route matched, the second on errors. */
  private onExpress(): void {
    const adapter = this.adapterHost.httpAdapter;
    const reply = async (request: IncomingRequest, response: unknown, error: unknown) => {
      const { status, body, requestId } = await this.answer(request, error);
      adapter.setHeader(response, REQUEST_ID_HEADER, requestId);
      if (status === HttpStatus.SERVICE_UNAVAILABLE) adapter.setHeader(response, 'Retry-After', RETRY_AFTER_SECONDS);
      adapter.reply(response, body, status);
    };
    adapter.use((request: IncomingRequest, response: unknown, next: Next) => {
      if (!this.isOwn(request)) return next();
      reply(request, response, unrecognizedRequestUrl(request)).catch(next);
    });
    adapter.use((error: unknown, request: IncomingRequest, response: unknown, next: Next) => {
      if (!this.isOwn(request)) return next(error);
      // A body in a declared charset other than UTF-8 that the parser refused, or decoded and
      // failed on: a 415, as on Fastify (which refuses the charset before reading).
      const status = (error as { status?: number })?.status ?? 500;
      const charsetFailure = status >= 400 && status < 500 && !isUtf8Json(request.headers['content-type']);
      const cause = charsetFailure ? invalidRequestWithStatus(HttpStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE_MESSAGE) : error;
      reply(request, response, cause).catch(next);
    });
  }

  /**
   * Fastify runs hooks added before it is ready on every route. Errors reach its error
   * handler (Nest's, then the host's filters); the module notes them in `onError` and
   * rewrites what is sent for its own paths in `onSend`.
   */
  private onFastify(fastify: FastifyLike): void {
    fastify.addHook('preParsing', async (request: IncomingRequest & FastifyRequestLike, _reply: unknown, payload: Readable) => {
      if (!this.isOwn(request)) return payload;
      // Checked as Express's body parser checks them, and only when it would: for a request that
      // announces a body (a length, even 0, or chunks).
      const { headers } = request;
      const chunked = headers['transfer-encoding'] !== undefined;
      if (!chunked && headers['content-length'] === undefined) return payload;
      // Refused before Fastify's parser reads the bytes as UTF-8 anyway (the route would say 415 too).
      if (!isUtf8Json(headers['content-type']))
        throw invalidRequestWithStatus(HttpStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE_MESSAGE);
      const encoding = knownEncoding(headers['content-encoding']);
      if (!chunked && Number(headers['content-length']) === 0) {
        // Nothing is not valid compressed data (Express's parser says so too).
        if (encoding !== 'identity') throw invalidRequestWithStatus(HttpStatus.BAD_REQUEST, `The body is not valid ${encoding} data.`);
        // Fastify rejects "Content-Type: application/json" with an empty body; the API treats
        // it as "no parameters", as on Express.
        delete headers['content-type'];
        return payload;
      }
      const limit = request.routeOptions?.bodyLimit ?? fastify.initialConfig?.bodyLimit ?? DEFAULT_FASTIFY_BODY_LIMIT;
      return decodedBody(payload, encoding, chunked, limit);
    });
    fastify.addHook('onError', async (request: IncomingRequest, _reply: unknown, error: unknown) => {
      if (this.isOwn(request)) request[OWN_ERROR] = error;
    });
    fastify.addHook('onSend', async (request: IncomingRequest, reply: FastifyReplyLike, payload: unknown) => {
      if (!this.isOwn(request)) return payload;
      // Every answer on the module's paths, whoever produced it, carries the request's id.
      reply.header(REQUEST_ID_HEADER, requestIdOf(request));
      if (reply.statusCode < 400) return payload;
      if (typeof payload === 'string' && payload.startsWith('{"error":{')) return payload;
      const cause =
        request[OWN_ERROR] ??
        (reply.statusCode === HttpStatus.NOT_FOUND ? unrecognizedRequestUrl(request) : { statusCode: reply.statusCode });
      const { status, body } = await this.answer(request, cause);
      reply.code(status);
      if (status === HttpStatus.SERVICE_UNAVAILABLE) reply.header('Retry-After', RETRY_AFTER_SECONDS);
      reply.header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify(body);
    });
  }
}
