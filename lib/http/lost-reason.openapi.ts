import { applyDecorators, HttpStatus } from '@nestjs/common';
import { CreateLostReasonDto, DeletedLostReason, LostReasonError, LostReasonList, LostReasonObject, UpdateLostReasonDto } from '../dto';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  IDEMPOTENCY_KEY_TTL_MS,
  IDEMPOTENT_REPLAYED_HEADER,
} from '../idempotency/idempotency.constants';
import { IDEMPOTENCY_KEY_PATTERN } from '../idempotency/idempotency-key.parser';
import { RETRY_AFTER_SECONDS } from '../errors/error-response.mapper';
import {
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  LIST_OFFSET_MAX,
  LOST_REASON_ID_PATTERN,
  LOST_REASON_ID_PREFIX,
} from '../common/lost-reason.constants';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from '../common/request-id.util';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
  LOST_REASON_OPENAPI_ENABLED,
} from '../common/swagger.loader';

/** When each error status of the module happens. */
const ERROR_DESCRIPTIONS: Partial<Record<HttpStatus, string>> = {
  [HttpStatus.BAD_REQUEST]:
    'Invalid parameters or malformed JSON (`invalid_request_error`; `param` names the culprit), a body on a GET or a `#` in the URL, ' +
    'or a constraint the host declared ' +
    'on the table refused the write (code `resource_in_use` for a delete, `resource_already_exists` for a unique index).',
  [HttpStatus.UNAUTHORIZED]: 'Missing or invalid API key (`authentication_error`).',
  [HttpStatus.NOT_FOUND]: 'No object has this id (`invalid_request_error`, code `resource_missing`).',
  [HttpStatus.CONFLICT]: `Another request with this \`${IDEMPOTENCY_KEY_HEADER}\` has not finished yet (\`idempotency_error\`, code \`idempotency_key_in_use\`); retry later.`,
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'The request body is too large (`invalid_request_error`).',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'A body sent with a Content-Type other than `application/json` (`invalid_request_error`).',
  [HttpStatus.INTERNAL_SERVER_ERROR]: 'Unexpected error (`api_error`); the cause is logged, never returned.',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'The database is unreachable or did not answer in time (`api_error`); retry (`Retry-After`).',
};

/** The `Request-Id` header of every response, as documented on each of them. */
const REQUEST_ID_HEADERS = {
  [REQUEST_ID_HEADER]: {
    description: "Id of the request (`req_…`), also in error bodies and in the module's log lines about it.",
    required: true,
    schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source, example: 'req_8UVbsdl3TxVRXnQ2c0Fa' },
  },
};

/** The headers of an error response: `errorHeaders` adds `Retry-After` to every 503. */
const errorHeadersOf = (status: HttpStatus) =>
  status !== HttpStatus.SERVICE_UNAVAILABLE
    ? REQUEST_ID_HEADERS
    : {
        ...REQUEST_ID_HEADERS,
        'Retry-After': {
          description: 'Seconds to wait before retrying.',
          required: true,
          schema: { type: 'integer', minimum: 0, example: Number(RETRY_AFTER_SECONDS) },
        },
      };

/**
 * A route's documentation: its decorators applied as if stacked in this order above the method
 * (the last first, as TypeScript applies them), or nothing at all without `@nestjs/swagger`.
 */
function documented(decorators: () => Array<ClassDecorator | MethodDecorator>): MethodDecorator & ClassDecorator {
  return LOST_REASON_OPENAPI_ENABLED ? applyDecorators(...decorators().reverse()) : () => undefined;
}

/** Error responses of a route, all with the module's `{ "error": { ... } }` body. */
const errorResponses = (...statuses: HttpStatus[]) =>
  [HttpStatus.UNAUTHORIZED, ...statuses, HttpStatus.INTERNAL_SERVER_ERROR, HttpStatus.SERVICE_UNAVAILABLE]
    .sort((a, b) => a - b)
    .map((status) =>
      ApiResponse({ status, description: ERROR_DESCRIPTIONS[status], type: LostReasonError, headers: errorHeadersOf(status) }),
    );

/** The id path parameter of the routes on one object. */
const idParam = () =>
  ApiParam({
    name: 'id',
    type: String,
    // No pattern: an id of another shape is answered 404, as an unknown id is, not refused as invalid.
    description: 'Id of the object: `opportunity-lost-reason_` and 32 hexadecimal digits (any other is a 404).',
    example: `${LOST_REASON_ID_PREFIX}3f0c9a1e5b7d4c2a8e6f1b3d5a7c9e0f`,
  });

/** The resource's tag and its bearer authentication. */
export const ApiLostReasonResource = () => documented(() => [ApiTags('Opportunity Lost Reasons'), ApiBearerAuth()]);

export const ApiCreateLostReason = () =>
  documented(() => [
    ApiOperation({ operationId: 'createLostReason', summary: 'Create an opportunity lost reason' }),
    ApiBody({ type: CreateLostReasonDto, required: false }),
    ApiHeader({
      name: IDEMPOTENCY_KEY_HEADER,
      required: false,
      description:
        `Makes the request safe to retry: the first request's answer is stored for ${IDEMPOTENCY_KEY_TTL_MS / 3_600_000} hours and replayed ` +
        `(\`${IDEMPOTENT_REPLAYED_HEADER}: true\`) to a retry with the same key and parameters, creating nothing; the same key with other ` +
        'parameters is a 400 `idempotency_error`, and while the first request runs, a 409. A fresh random value (a UUID) per object.',
      schema: { type: 'string', minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: IDEMPOTENCY_KEY_PATTERN.source },
    }),
    ApiResponse({
      status: HttpStatus.CREATED,
      description: `The new object; with an \`${IDEMPOTENCY_KEY_HEADER}\` used before, the object its first request created.`,
      type: LostReasonObject,
      headers: {
        ...REQUEST_ID_HEADERS,
        [IDEMPOTENT_REPLAYED_HEADER]: {
          description: `\`true\` when the answer is the stored one of an earlier request with the same \`${IDEMPOTENCY_KEY_HEADER}\`.`,
          schema: { type: 'string', enum: ['true'] },
        },
      },
    }),
    ...errorResponses(HttpStatus.BAD_REQUEST, HttpStatus.CONFLICT, HttpStatus.PAYLOAD_TOO_LARGE, HttpStatus.UNSUPPORTED_MEDIA_TYPE),
  ]);

export const ApiListLostReasons = () =>
  documented(() => [
    ApiOperation({ operationId: 'listLostReasons', summary: 'List opportunity lost reasons, newest first' }),
    ApiQuery({
      name: 'limit',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT },
      description: 'Page size.',
    }),
    ApiQuery({
      name: 'offset',
      required: false,
      schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 },
      description: `Number of objects to skip, newest first. Not with a cursor. Past ${LIST_OFFSET_MAX}, only an offset past the end of the list is accepted (an empty page): page further with starting_after.`,
    }),
    ApiQuery({
      name: 'starting_after',
      required: false,
      schema: { type: 'string', pattern: LOST_REASON_ID_PATTERN.source },
      description: 'Cursor: the page right after (older than) this object id (an unknown id is a 400 `resource_missing`).',
    }),
    ApiQuery({
      name: 'ending_before',
      required: false,
      schema: { type: 'string', pattern: LOST_REASON_ID_PATTERN.source },
      description: 'Cursor: the page right before (newer than) this object id (an unknown id is a 400 `resource_missing`).',
    }),
    ApiResponse({ status: HttpStatus.OK, description: 'One page and the total count.', type: LostReasonList, headers: REQUEST_ID_HEADERS }),
    ...errorResponses(HttpStatus.BAD_REQUEST),
  ]);

export const ApiRetrieveLostReason = () =>
  documented(() => [
    ApiOperation({ operationId: 'retrieveLostReason', summary: 'Retrieve an opportunity lost reason' }),
    idParam(),
    ApiResponse({ status: HttpStatus.OK, description: 'The object.', type: LostReasonObject, headers: REQUEST_ID_HEADERS }),
    ...errorResponses(HttpStatus.BAD_REQUEST, HttpStatus.NOT_FOUND),
  ]);

export const ApiUpdateLostReason = () =>
  documented(() => [
    ApiOperation({ operationId: 'updateLostReason', summary: 'Update an opportunity lost reason; only the fields passed change' }),
    idParam(),
    ApiBody({ type: UpdateLostReasonDto, required: false }),
    ApiResponse({ status: HttpStatus.OK, description: 'The updated object.', type: LostReasonObject, headers: REQUEST_ID_HEADERS }),
    ...errorResponses(HttpStatus.BAD_REQUEST, HttpStatus.NOT_FOUND, HttpStatus.PAYLOAD_TOO_LARGE, HttpStatus.UNSUPPORTED_MEDIA_TYPE),
  ]);

export const ApiDeleteLostReason = () =>
  documented(() => [
    ApiOperation({ operationId: 'deleteLostReason', summary: 'Delete an opportunity lost reason permanently' }),
    idParam(),
    ApiResponse({
      status: HttpStatus.OK,
      description: 'Confirmation of the delete.',
      type: DeletedLostReason,
      headers: REQUEST_ID_HEADERS,
    }),
    ...errorResponses(HttpStatus.BAD_REQUEST, HttpStatus.NOT_FOUND),
  ]);
