import { ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * What `IsStorableText` refuses besides its length, as a JSON Schema `pattern` for the OpenAPI
 * document: no NUL, no U+FFFD, no lone surrogate. Read alike by a plain JavaScript `RegExp` (on
 * UTF-16 code units: a surrogate pair is the second branch) and in unicode mode, as Ajv reads
 * patterns (on code points: a pair is one character of the first branch, a lone half matches
 * neither).
 */
export const STORABLE_TEXT_PATTERN = String.raw`^(?:[^\u0000\uD800-\uDFFF\uFFFD]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$`;

/** Why a value is not text that every supported database stores and returns unchanged. */
function storableTextProblem(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  // PostgreSQL rejects NUL in text; rejecting it everywhere keeps the databases alike.
  if (value.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  // A lone UTF-16 surrogate cannot be encoded as UTF-8: drivers would silently replace it.
  if (!value.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  // What body parsers make of invalid UTF-8 bytes, silently: refused, so bad bytes are a 400.
  if (value.includes('\ufffd')) return 'must be valid UTF-8 text (U+FFFD, what invalid bytes decode to, is refused)';
  // Databases count characters as code points, so count them the same way
  // (class-validator's MaxLength also discounts variation selectors, which would let
  // an arbitrarily long string through).
  if (value.length > maxLength && [...value].length > maxLength) {
    return `must be at most ${maxLength} characters long`;
  }
  return undefined;
}

/**
 * A string of at most `maxLength` code points that PostgreSQL, MySQL/MariaDB and SQLite all
 * store and return byte for byte.
 */
export function IsStorableText(maxLength: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStorableText',
      constraints: [maxLength],
      validator: {
        validate: (value: unknown) => storableTextProblem(value, maxLength) === undefined,
        defaultMessage: (args?: ValidationArguments) => `${args?.property} ${storableTextProblem(args?.value, maxLength)}`,
      },
    },
    options,
  );
}
