import { INestApplication } from '@nestjs/common';

/**
 * CORS for browser clients on other origins. The host's CORS handler answers preflights
 * (OPTIONS, sent without the API key) before the module's key check; a browser shows a script
 * only the headers listed in `exposedHeaders`.
 */
export const SAMPLE_CORS: Parameters<INestApplication['enableCors']>[0] = {
  // Any origin, echoed back: the key travels in a header, never in a cookie. Name your
  // front-end's origins here in production.
  origin: true,
  methods: ['GET', 'POST', 'PATCH', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
  exposedHeaders: ['Request-Id', 'Retry-After', 'Idempotent-Replayed'],
  maxAge: 600,
};

/** Lets browsers on other origins call the app (`SAMPLE_CORS`). */
export function setupCors(app: INestApplication): void {
  app.enableCors(SAMPLE_CORS);
}
