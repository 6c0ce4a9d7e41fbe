import { LostReasonErrorResponse } from '../errors/error-response.mapper';

/** The parts of a Node request (under Express or Fastify) the fallbacks read. */
export interface IncomingRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The module's error answer to `error` on its path, with the request's id. */
export type FallbackAnswer = (request: IncomingRequest, error: unknown) => Promise<LostReasonErrorResponse & { requestId: string }>;
