import { ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import { InvalidRequestException } from '../errors';

/** The parameters a DTO declares: the properties carrying validation decorators. */
function declaredKeys(dto: ClassConstructor<object>): ReadonlySet<string> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  return new Set(metadata.map(({ propertyName }) => propertyName));
}

declare const validated: unique symbol;

/**
 * Parameters a `ParamsValidator` returned. A type only: nothing is added to the object, so it is
 * checked every time it is given to a validator; a function that takes `Validated<T>` says its
 * caller has checked them, once.
 */
export type Validated<T> = T & { readonly [validated]: true };

/** Why parameters that are not a JSON object (a scalar, an array, null) are refused. */
export const NOT_AN_OBJECT_MESSAGE = 'The request parameters must be a JSON object.';

/**
 * Checks request parameters (a body or a query) against one DTO, held by the provider that
 * checks them (the service, the idempotency protocol): the DTO's declared parameters are read
 * once, when it is made. The service calls it, so hosts that inject the service get exactly the
 * HTTP API's rules.
 */
export class ParamsValidator<T extends object> {
  private readonly declared: ReadonlySet<string>;

  constructor(protected readonly dto: ClassConstructor<T>) {
    this.declared = declaredKeys(dto);
  }

  /** `params` checked against the DTO: its typed instance, or a 400 naming the first offending parameter. */
  validate(params: unknown): Validated<T> {
    const input = params === undefined ? {} : params;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new InvalidRequestException(NOT_AN_OBJECT_MESSAGE);
    }
    // Checked here rather than by `forbidNonWhitelisted`: the transform below drops keys such
    // as "__proto__" silently, so they would never be reported.
    const unknown = Object.keys(input).find((key) => !this.declared.has(key));
    if (unknown !== undefined) {
      throw new InvalidRequestException(`Received unknown parameter: ${unknown}`, unknown);
    }
    // Every parameter is a scalar. class-transformer would walk an object or array value in full,
    // recursively (a deep one overflows the stack) and through keys such as "constructor" (which
    // it calls): only scalars go through it; the validators refuse the others as they are.
    const scalars: Record<string, unknown> = {};
    const composites: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      (typeof value === 'object' && value !== null ? composites : scalars)[key] = value;
    }
    const instance = Object.assign(plainToInstance(this.dto, scalars), composites);
    const [error] = validateSync(instance, { stopAtFirstError: true });
    if (error) {
      const message = Object.values(error.constraints ?? {})[0] ?? `${error.property} is invalid`;
      throw new InvalidRequestException(message, error.property);
    }
    return instance as Validated<T>;
  }
}

/** How many distinct queries one validator remembers; past it, its memo starts over. */
const MEMO_SIZE = 256;
/** A longer query is checked every time: only short ones repeat often enough to be worth keeping. */
const MEMO_KEY_LENGTH = 256;

/**
 * A `ParamsValidator` for parameters that repeat from call to call (a list's query: `limit=20`
 * on almost every request), where checking them again costs more than the rest of the call
 * (class-transformer and class-validator: about 85,000 instructions of a list's 750,000, by
 * callgrind). The checked instance of parameters seen before is reused, frozen so no caller
 * can change what the next one gets. Only plain string and number parameters are remembered,
 * and only what passed: refusals are checked, and thrown, every time. The memo is this
 * instance's, so the provider holding it owns it (no state at module level).
 */
export class RepeatedParamsValidator<T extends object> extends ParamsValidator<T> {
  private readonly memo = new Map<string, Validated<T>>();

  override validate(params: unknown): Validated<T> {
    const read = memoKeyOf(params);
    if (read === undefined) return super.validate(params);
    let checked = this.memo.get(read.key);
    if (!checked) {
      // The values read for the key are what gets checked: what the key says is what the instance
      // holds, even for a host's object whose getters would answer differently the second time.
      checked = Object.freeze(super.validate(plainObjectOf(read.entries)));
      if (this.memo.size >= MEMO_SIZE) this.memo.clear();
      this.memo.set(read.key, checked);
    }
    return checked;
  }
}

/**
 * The memo key of `params` and the entries read for it, each read once: undefined for anything
 * but a short object of own string and number parameters.
 */
function memoKeyOf(params: unknown): { key: string; entries: Array<[string, string | number]> } | undefined {
  const entries: Array<[string, string | number]> = [];
  if (params === undefined) return { key: '', entries };
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  let key = '';
  for (const name in params) {
    if (!Object.hasOwn(params, name)) return undefined;
    const value: unknown = (params as Record<string, unknown>)[name];
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    // Typed: the number 20 and the string "20" are different parameters (a host's call, a query).
    key += `${JSON.stringify(name)}:${typeof value === 'number' ? value : JSON.stringify(value)},`;
    if (key.length > MEMO_KEY_LENGTH) return undefined;
    entries.push([name, value]);
  }
  return { key, entries };
}

/** An object of `entries`, built only on a miss; a key such as "__proto__" stays a key (and is refused as unknown). */
function plainObjectOf(entries: Array<[string, string | number]>): Record<string, string | number> {
  const values: Record<string, string | number> = {};
  for (const [name, value] of entries) Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
  return values;
}
