import fc from 'fast-check';
import Ajv from 'ajv';
import { validateSync } from 'class-validator';
import { IsStorableText, STORABLE_TEXT_PATTERN } from './is-storable-text.decorator';

/** Long enough that the length rule never decides: only what the pattern also says. */
class Text {
  @IsStorableText(10_000)
  value!: string;
}
const acceptedByDecorator = (value: string) => validateSync(Object.assign(new Text(), { value })).length === 0;

/** Strings made of the characters that matter here, paired and unpaired surrogates included. */
const tricky = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\u0000', '\ufffd', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'a', 'é', '\uffff'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  ),
  maxLength: 12,
});

describe('STORABLE_TEXT_PATTERN', () => {
  const plain = new RegExp(STORABLE_TEXT_PATTERN);
  const unicode = new RegExp(STORABLE_TEXT_PATTERN, 'u');
  // How OpenAPI tools read it: Ajv compiles patterns in unicode mode by default.
  const ajv = new Ajv().compile({ type: 'string', pattern: STORABLE_TEXT_PATTERN });

  it.each([
    ['Price too high', true],
    ['emoji 😀 and é', true],
    ['', true],
    ['NUL \u0000', false],
    ['replacement \ufffd', false],
    ['lone lead \ud83d', false],
    ['lone trail \ude00 ', false],
    ['reversed \ude00\ud83d', false],
  ])('%j: %p, read plainly, in unicode mode and by Ajv', (value, accepted) => {
    expect(acceptedByDecorator(value)).toBe(accepted);
    expect(plain.test(value)).toBe(accepted);
    expect(unicode.test(value)).toBe(accepted);
    expect(ajv(value)).toBe(accepted);
  });

  it('says exactly what IsStorableText says, length aside, for any string', () => {
    fc.assert(
      fc.property(tricky, (value) => {
        const accepted = acceptedByDecorator(value);
        expect(plain.test(value)).toBe(accepted);
        expect(unicode.test(value)).toBe(accepted);
        expect(ajv(value)).toBe(accepted);
      }),
      { numRuns: 2000 },
    );
  });
});
