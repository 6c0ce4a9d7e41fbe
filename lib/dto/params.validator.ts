import { ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import { InvalidRequestException } from '../errors';

const declaredKeysCache = new WeakMap<ClassConstructor<object>, Set<string>>();

/** The parameters a DTO declares: the properties carrying validation decorators. */
function declaredKeys(dto: ClassConstructor<object>): Set<string> {
  let keys = declaredKeysCache.get(dto);
  if (!keys) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
    keys = new Set(metadata.map(({ propertyName }) => propertyName));
    declaredKeysCache.set(dto, keys);
  }
  return keys;
}

/**
 * Marks the instances this function returned: given one again, it returns it as it is, not
 * checked twice. A hidden property rather than a `WeakSet`: V8 pays for every live `WeakSet`
 * entry at each garbage collection (about 100,000 instructions per update, counted by callgrind).
 */
const VALIDATED = Symbol('validated');

/**
 * Checks request parameters (a body or a query) against a DTO and returns the typed
 * instance, or throws a 400 naming the first offending parameter. The service calls it, so
 * hosts that inject the service get exactly the HTTP API's rules.
 */
export function validateParams<T extends object>(dto: ClassConstructor<T>, params: unknown): T {
  if (params instanceof dto && (params as { [VALIDATED]?: boolean })[VALIDATED] === true) return params;
  const input = params === undefined ? {} : params;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRequestException('The request parameters must be a JSON object.');
  }
  // Checked here rather than by `forbidNonWhitelisted`: the transform below drops keys such
  // as "__proto__" silently, so they would never be reported.
  const known = declaredKeys(dto);
  const unknown = Object.keys(input).find((key) => !known.has(key));
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
  const instance = Object.assign(plainToInstance(dto, scalars), composites);
  const [error] = validateSync(instance, { stopAtFirstError: true });
  if (error) {
    const message = Object.values(error.constraints ?? {})[0] ?? `${error.property} is invalid`;
    throw new InvalidRequestException(message, error.property);
  }
  Object.defineProperty(instance, VALIDATED, { value: true });
  return instance;
}
