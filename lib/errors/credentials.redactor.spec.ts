import { redactCredentials } from './credentials.redactor';

describe('redactCredentials', () => {
  it('removes the Authorization value and its token, wherever they appear', () => {
    expect(redactCredentials('key=abc.DEF-123 and again abc.DEF-123', 'Bearer abc.DEF-123')).toBe('key=[REDACTED] and again [REDACTED]');
    expect(redactCredentials('got sk_bare_1', 'sk_bare_1')).toBe('got [REDACTED]');
  });

  it('removes any Bearer or Basic token, in any case', () => {
    expect(redactCredentials('sent bearer sk_x/y+z== and Basic dXNlcjpw')).toBe('sent bearer [REDACTED] and Basic [REDACTED]');
  });

  it('leaves other text alone', () => {
    expect(redactCredentials('GET /api/crm failed: Error: no such table', 'Bearer sk_test_123')).toBe(
      'GET /api/crm failed: Error: no such table',
    );
    expect(redactCredentials('nothing to hide', undefined)).toBe('nothing to hide');
  });
});
