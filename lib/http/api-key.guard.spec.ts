import { ExecutionContext } from '@nestjs/common';
import { AuthenticationException } from '../errors';
import { LostReasonApiKeyGuard } from './api-key.guard';
import { LostReasonTenancy } from '../tenancy/tenancy.service';
import { LOST_REASON_DEFAULTS } from '../common/lost-reason.constants';
import { resolveLostReasonOptions } from '../lost-reason.options';

const withHeader = (authorization?: unknown) =>
  ({ switchToHttp: () => ({ getRequest: () => ({ headers: { authorization } }) }) }) as unknown as ExecutionContext;

/** canActivate's answer as a promise, whether it answered at once (a configured key) or not (the host's verifier). */
const activate = (guard: LostReasonApiKeyGuard, context: ExecutionContext) => Promise.resolve().then(() => guard.canActivate(context));

const guard = (options: Parameters<typeof resolveLostReasonOptions>[0]) => {
  const resolved = resolveLostReasonOptions(options, { path: LOST_REASON_DEFAULTS.path });
  return new LostReasonApiKeyGuard(resolved, new LostReasonTenancy(resolved));
};

describe('LostReasonApiKeyGuard', () => {
  const keys = guard({ apiKeys: ['sk_test_one', 'sk_test_two'] });

  it('accepts every configured key, with the scheme in any case', async () => {
    await expect(activate(keys, withHeader('Bearer sk_test_one'))).resolves.toBe(true);
    await expect(activate(keys, withHeader('bearer sk_test_two'))).resolves.toBe(true);
  });

  it.each([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'sk_test_one',
    'Basic sk_test_one',
    'Bearer sk_test_on',
    'Bearer sk_test_one,sk_test_two',
    ['Bearer sk_test_one'],
  ])('rejects %p', async (header) => {
    await expect(activate(keys, withHeader(header))).rejects.toThrow(AuthenticationException);
  });

  it('asks the verifier for keys not in the list, and only accepts a literal true', async () => {
    const verifier = guard({ apiKeys: ['sk_test_one'], verifyApiKey: async (key) => (key === 'sk_test_vault' ? true : ('yes' as never)) });
    await expect(activate(verifier, withHeader('Bearer sk_test_one'))).resolves.toBe(true);
    await expect(activate(verifier, withHeader('Bearer sk_test_vault'))).resolves.toBe(true);
    await expect(activate(verifier, withHeader('Bearer sk_test_other'))).rejects.toThrow(AuthenticationException);
  });

  it('answers at once, without a promise, for a configured key', () => {
    expect(keys.canActivate(withHeader('Bearer sk_test_one'))).toBe(true);
    expect(() => keys.canActivate(withHeader('Bearer sk_test_three'))).toThrow(AuthenticationException);
  });

  it('lets everything through when the host opted out', async () => {
    await expect(activate(guard({ allowUnauthenticated: true }), withHeader())).resolves.toBe(true);
  });
});
