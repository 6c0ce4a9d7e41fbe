import { HttpExceptionOptions } from '@nestjs/common';
import { InvalidRequestException } from './invalid-request.exception';

/**
 * The object is referenced by other records, through a foreign key the host declared on its
 * own table (HTTP 400, code `resource_in_use`): it cannot be deleted while they reference it.
 * Nothing was deleted.
 */
export class LostReasonInUseException extends InvalidRequestException {
  constructor(
    /** The id of the object that was not deleted. */
    readonly id: string,
    options?: HttpExceptionOptions,
  ) {
    super(
      'This opportunity-lost-reason is referenced by other records and cannot be deleted while they reference it.',
      undefined,
      'resource_in_use',
      options,
    );
  }
}

/**
 * Another object already has this `lost_reason` by a unique index the host declared on the
 * module's table (HTTP 400, code `resource_already_exists`, param `lost_reason`). Nothing was written.
 */
export class LostReasonAlreadyExistsException extends InvalidRequestException {
  constructor(options?: HttpExceptionOptions) {
    super('An opportunity-lost-reason with this lost_reason already exists.', 'lost_reason', 'resource_already_exists', options);
  }
}

/**
 * A constraint the host declared (a CHECK, a NOT NULL, a foreign key from the module's table)
 * refused the write (HTTP 400); `param` is `lost_reason` when the database's report of the
 * constraint names that column, else absent. Nothing was written.
 */
export class LostReasonConstraintException extends InvalidRequestException {
  constructor(param?: 'lost_reason', options?: HttpExceptionOptions) {
    super(
      param ? `${param} is not allowed by a constraint of this database.` : 'The request is not allowed by a constraint of this database.',
      param,
      undefined,
      options,
    );
  }
}
