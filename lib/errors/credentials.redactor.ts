const REDACTED = '[REDACTED]';

/**
 * `text` without the request's credentials: the whole `Authorization` value and the token it
 * carries, wherever they appear (a host verifier may put the key in an error message), and
 * anything shaped like `Bearer <token>` or `Basic <token>`.
 */
export function redactCredentials(text: string, authorization?: unknown): string {
  let redacted = text;
  if (typeof authorization === 'string') {
    const value = authorization.trim();
    const token = /^\S+\s+(\S.*)$/.exec(value)?.[1]?.trim();
    for (const secret of [value, token]) {
      if (secret) redacted = redacted.split(secret).join(REDACTED);
    }
  }
  return redacted.replace(/\b(Bearer|Basic)(\s+)(?!\[REDACTED\])[A-Za-z0-9\-._~+/]+=*/gi, `$1$2${REDACTED}`);
}
