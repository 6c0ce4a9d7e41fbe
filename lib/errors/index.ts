export * from './authentication.exception';
export * from './invalid-request.exception';
export * from './constraint-violation.exception';
export * from './error-body.interface';
export * from './module-options.error';
export * from './not-found.exception';
export * from './idempotency.exception';
