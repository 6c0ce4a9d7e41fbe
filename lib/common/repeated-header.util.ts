/** What a request says of its headers: Express's, Fastify's, or Node's own. */
export interface RequestHeaders {
  headers?: Record<string, unknown>;
  rawHeaders?: string[];
  raw?: { rawHeaders?: string[] };
}

/**
 * Whether the header `name` (lower case) came more than once. Node keeps only the first of some
 * headers in `headers` (`Authorization`) and joins others into one value (`"k, k"`), so only the
 * raw lines tell: a proxy in front may have read another one than the app.
 */
export function isRepeatedHeader(request: RequestHeaders, name: string): boolean {
  const lines = request.rawHeaders ?? request.raw?.rawHeaders ?? [];
  let count = 0;
  for (let i = 0; i < lines.length; i += 2) {
    if (lines[i].length === name.length && lines[i].toLowerCase() === name && ++count > 1) return true;
  }
  return false;
}
