import { HttpStatus } from '@nestjs/common';
import { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { invalidRequestWithStatus } from '../errors';
import { undecodableBody } from './json-content-type.rule';

/** A body stream Fastify reads, with the count of bytes received as sent (for Content-Length). */
export type BodyStream = Readable & { receivedEncodedLength?: number };

/**
 * The encodings Express's body parser (2.x) inflates, and so the module on Fastify: zstd only
 * where Node's zlib has it (22.15+, 23.8+), as there; elsewhere a 415 on both adapters.
 */
const { createZstdDecompress } = zlib as { createZstdDecompress?: () => Transform };
const INFLATERS: Record<string, () => Transform> = {
  gzip: zlib.createGunzip,
  deflate: zlib.createInflate,
  br: zlib.createBrotliDecompress,
  ...(createZstdDecompress && { zstd: createZstdDecompress }),
};
const ACCEPTED = ['identity', ...Object.keys(INFLATERS)].join(', ');

/** A `Content-Encoding` in lower case (`identity` when none); a 415 for one the module cannot decode. */
export function knownEncoding(header: unknown): string {
  const name =
    String(header ?? '')
      .trim()
      .toLowerCase() || 'identity';
  if (name !== 'identity' && !INFLATERS[name]) {
    throw invalidRequestWithStatus(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `Content-Encoding "${String(header)}" is not supported: send one of ${ACCEPTED}.`,
    );
  }
  return name;
}

/**
 * The body Fastify parses, for a request that has one: inflated per its `Content-Encoding` (a
 * 415 for one the module does not know, a 400 for bytes that do not inflate, a 413 once the
 * inflated bytes pass `limit`: Fastify counts only what it reads), and a chunked or compressed
 * body that turns out empty read as `{}`, no parameters, as on Express. Fastify checks Content-Length against
 * `receivedEncodedLength`, the bytes as sent.
 */
export function decodedBody(payload: BodyStream, name: string, chunked: boolean, limit: number): BodyStream {
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
      done(null, decoded === 0 ? '{}' : undefined);
    },
  });
  Object.defineProperty(body, 'receivedEncodedLength', { get: () => sent });
  const inflater = inflate?.();
  // Bytes that do not inflate are the client's error.
  inflater?.on('error', () => body.destroy(undecodableBody(name)));
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
