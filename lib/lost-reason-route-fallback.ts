import { HttpStatus, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InvalidRequestException } from './exceptions';
import { LOST_REASON_RESOLVED_OPTIONS } from './lost-reason.constants';
import { toLostReasonErrorResponse } from './lost-reason-exception.filter';
import { ResolvedLostReasonOptions } from './lost-reason.options';

interface IncomingRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}
type Next = (error?: unknown) => void;

/** The few Fastify instance methods used here (fastify is the host's dependency, not ours). */
interface FastifyLike {
  addHook(name: string, hook: (...args: any[]) => unknown): unknown;
}
interface FastifyReplyLike {
  statusCode: number;
  code(status: number): unknown;
  header(name: string, value: string): unknown;
}

const OWN_ERROR = Symbol('lostReasonError');
const pathOf = (url: string) => url.split('?', 1)[0];

/**
 * Gives the module's error shape, on its own paths only, to what the HTTP adapter handles
 * outside the module's controller: body-parser failures (malformed JSON, oversized body,
 * unsupported media type) and methods or sub-paths that match no route. Adapters deal with
 * these before or after the route, so the controller's filter never sees them and, left
 * alone, they would reach the host's global filters. Everything on the host's own paths is
 * passed through untouched.
 */
@Injectable()
export class LostReasonRouteFallback implements OnModuleInit {
  /** The resource's paths, under any global prefix or version segment. */
  private readonly ownPath: RegExp;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(LOST_REASON_RESOLVED_OPTIONS) options: ResolvedLostReasonOptions,
  ) {
    const escaped = options.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.ownPath = new RegExp(`/${escaped}(?:/.*)?$`);
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() === 'express') this.onExpress();
    if (adapter?.getType() === 'fastify') this.onFastify(adapter.getInstance<FastifyLike>());
  }

  private isOwn(request: IncomingRequest): boolean {
    return this.ownPath.test(pathOf(request.url));
  }

  private unrecognized(request: IncomingRequest) {
    const message = `Unrecognized request URL (${request.method}: ${pathOf(request.url)}).`;
    return new InvalidRequestException(message, undefined, HttpStatus.NOT_FOUND);
  }

  /** Registered after the routes: the first runs when no route matched, the second on errors. */
  private onExpress(): void {
    const adapter = this.adapterHost.httpAdapter;
    const reply = (response: unknown, error: unknown) => {
      const { status, body } = toLostReasonErrorResponse(error);
      adapter.reply(response, body, status);
    };
    adapter.use((request: IncomingRequest, response: unknown, next: Next) =>
      this.isOwn(request) ? reply(response, this.unrecognized(request)) : next(),
    );
    adapter.use((error: unknown, request: IncomingRequest, response: unknown, next: Next) =>
      this.isOwn(request) ? reply(response, error) : next(error),
    );
  }

  /**
   * Fastify runs hooks added before it is ready on every route. Errors reach its error
   * handler (Nest's, then the host's filters); the module notes them in `onError` and
   * rewrites what is sent for its own paths in `onSend`.
   */
  private onFastify(fastify: FastifyLike): void {
    fastify.addHook('preParsing', async (request: IncomingRequest, _reply: unknown, payload: unknown) => {
      // Fastify rejects "Content-Type: application/json" with an empty body; the API treats
      // it as "no parameters", as on Express.
      const { headers } = request;
      const empty = headers['transfer-encoding'] === undefined && Number(headers['content-length'] ?? 0) === 0;
      if (this.isOwn(request) && empty) delete headers['content-type'];
      return payload;
    });
    fastify.addHook('onError', async (request: IncomingRequest & { [OWN_ERROR]?: unknown }, _reply: unknown, error: unknown) => {
      if (this.isOwn(request)) request[OWN_ERROR] = error;
    });
    fastify.addHook('onSend', async (request: IncomingRequest & { [OWN_ERROR]?: unknown }, reply: FastifyReplyLike, payload: unknown) => {
      if (!this.isOwn(request) || reply.statusCode < 400) return payload;
      if (typeof payload === 'string' && payload.startsWith('{"error":{')) return payload;
      const cause = request[OWN_ERROR] ?? (reply.statusCode === HttpStatus.NOT_FOUND ? this.unrecognized(request) : { statusCode: reply.statusCode });
      const { status, body } = toLostReasonErrorResponse(cause);
      reply.code(status);
      reply.header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify(body);
    });
  }
}
