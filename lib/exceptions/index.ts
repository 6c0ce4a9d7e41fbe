export * from './authentication.exception';
export * from './invalid-request.exception';
export * from './lost-reason-error-body.interface';
export * from './lost-reason-module-options.error';
export * from './lost-reason-not-found.exception';
export * from './idempotency.exception';
