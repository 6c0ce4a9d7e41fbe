import { LostReasonErrorReply } from '../errors/error-reply';

/** The parts of a Node request (under Express or Fastify) the fallbacks read. */
export interface IncomingRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The module's error reply to `error` on its path (the credentials' problem first). */
export type FallbackAnswer = (request: IncomingRequest, error: unknown) => Promise<LostReasonErrorReply>;
