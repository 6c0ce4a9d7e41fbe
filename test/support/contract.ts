/**
 * The resource's contract as clients see it, written once for every spec: the shape of an
 * object's id and timestamps, the fields of an object, and the error bodies specs compare with.
 * Written out here rather than taken from lib/, so that the specs pin the contract instead of
 * agreeing with whatever the code says.
 */

/** An object id: the prefix and 32 lowercase hexadecimal digits. */
export const OBJECT_ID = /^opportunity-lost-reason_[0-9a-f]{32}$/;

/** A well-formed id that no object has. */
export const MISSING_ID = 'opportunity-lost-reason_00000000000000000000000000000000';

/** A timestamp: ISO 8601 in UTC with milliseconds, as `Date.prototype.toISOString()` writes it. */
export const ISO_UTC_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The fields of an object, in the order every answer lists them. */
export const OBJECT_FIELDS = ['id', 'created_at', 'updated_at', 'lost_reason'];

/**
 * `body` is an object of the contract: exactly its four fields in their order, a well-formed id,
 * and both timestamps ISO 8601 UTC with milliseconds.
 */
export function expectContractObject(body: object): void {
  const object = body as Record<string, unknown>;
  expect(Object.keys(object)).toEqual(OBJECT_FIELDS);
  expect(object.id).toMatch(OBJECT_ID);
  expect(object.created_at).toMatch(ISO_UTC_MS);
  expect(object.updated_at).toMatch(ISO_UTC_MS);
}

/** `error` of the answer for an id that names no object (of the caller's): 404 on the `id` parameter. */
export const RESOURCE_MISSING = { type: 'invalid_request_error', code: 'resource_missing', param: 'id' };

/**
 * The whole body of a 500 or a 503: an `api_error` with a message and the request's id (any
 * string unless given), and nothing else: no SQL, no stack, no parameter.
 */
export const apiErrorBody = (requestId: unknown = expect.any(String)) => ({
  error: { type: 'api_error', message: expect.any(String), request_id: requestId },
});
