/** Stripe's error types that this module answers with. */
export type LostReasonErrorType = 'invalid_request_error' | 'authentication_error' | 'idempotency_error' | 'api_error';

/** The `error` member of every error response of the module: `{ "error": { ... } }`. */
export interface LostReasonErrorBody {
  type: LostReasonErrorType;
  message: string;
  /** The request parameter the error is about, when there is one. */
  param?: string;
  /** A short machine-readable reason, e.g. `resource_missing`. */
  code?: string;
  /**
   * Id of the request (`req_…`), also sent as the `Request-Id` header and written in the
   * module's log lines about it. Every error response carries it; the module's exceptions
   * leave it out, as it is added when the error is answered.
   */
  request_id?: string;
}
