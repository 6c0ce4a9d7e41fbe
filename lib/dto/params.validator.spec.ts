import { CreateLostReasonDto, ListLostReasonsDto, UpdateLostReasonDto } from '.';
import { InvalidRequestException } from '../errors';
import { LOST_REASON_MAX_LENGTH } from '../common/lost-reason.constants';
import * as classValidator from 'class-validator';
import { ClassConstructor } from 'class-transformer';
import { ParamsValidator, RepeatedParamsValidator } from './params.validator';

/** One check by a validator made for it: what a provider's validator does on each call. */
const validateParams = <T extends object>(dto: ClassConstructor<T>, params: unknown) => new ParamsValidator(dto).validate(params);

/** The `{ param, message }` of the 400 a call throws. */
function rejection(run: () => unknown): { param?: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestException);
    const { param, message } = (error as InvalidRequestException).getResponse() as { param?: string; message: string };
    return { param, message };
  }
  throw new Error('expected an InvalidRequestException');
}

describe('validateParams', () => {
  describe('lost_reason (create and update)', () => {
    it.each([CreateLostReasonDto, UpdateLostReasonDto])('%p accepts a string, null, or nothing', (dto) => {
      expect(validateParams(dto, { lost_reason: 'Budget cut' }).lost_reason).toBe('Budget cut');
      expect(validateParams(dto, { lost_reason: null }).lost_reason).toBeNull();
      expect(validateParams(dto, {}).lost_reason).toBeUndefined();
      expect(validateParams(dto, undefined).lost_reason).toBeUndefined();
    });

    it.each([
      [42, /must be a string/],
      [true, /must be a string/],
      [['a'], /must be a string/],
      [{ toString: 'x' }, /must be a string/],
      ['a\u0000b', /NUL/],
      ['\ud83d', /well-formed/],
      ['x\udc00', /well-formed/],
      ['a'.repeat(LOST_REASON_MAX_LENGTH + 1), /at most 500 characters/],
      ['é'.repeat(LOST_REASON_MAX_LENGTH + 1), /at most 500 characters/],
      ['\ufe0f'.repeat(LOST_REASON_MAX_LENGTH + 1), /at most 500 characters/],
    ])('rejects %p naming lost_reason', (value, message) => {
      const error = rejection(() => validateParams(CreateLostReasonDto, { lost_reason: value }));
      expect(error.param).toBe('lost_reason');
      expect(error.message).toMatch(message);
    });

    it('counts code points, not UTF-16 units', () => {
      const emoji = '😀'.repeat(LOST_REASON_MAX_LENGTH);
      expect(emoji.length).toBe(2 * LOST_REASON_MAX_LENGTH);
      expect(validateParams(CreateLostReasonDto, { lost_reason: emoji }).lost_reason).toBe(emoji);
    });

    it.each(['id', 'created_at', 'lost_Reason', '__proto__', 'constructor'])('rejects the unknown parameter %s', (key) => {
      const input = JSON.parse(`{"${key}": "x"}`);
      expect(rejection(() => validateParams(UpdateLostReasonDto, input))).toEqual({
        param: key,
        message: `Received unknown parameter: ${key}`,
      });
    });

    it.each([[[]], ['text'], [7], [true]])('rejects %p as the parameters themselves', (input) => {
      expect(rejection(() => validateParams(CreateLostReasonDto, input)).param).toBeUndefined();
    });
  });

  describe('limit and offset (list)', () => {
    it('turns decimal strings into integers and leaves defaults to the caller', () => {
      expect(validateParams(ListLostReasonsDto, { limit: '100', offset: '0' })).toMatchObject({ limit: 100, offset: 0 });
      expect(validateParams(ListLostReasonsDto, { limit: 7 })).toMatchObject({ limit: 7 });
      expect(validateParams(ListLostReasonsDto, {})).toEqual({});
    });

    it.each([
      ['limit', '0', 'limit must not be less than 1'],
      ['limit', '101', 'limit must not be greater than 100'],
      ['limit', '-1', 'limit must be an integer number'],
      ['limit', 1.5, 'limit must be an integer number'],
      ['limit', 'abc', 'limit must be an integer number'],
      ['limit', '1e1', 'limit must be an integer number'],
      ['limit', ' 1', 'limit must be an integer number'],
      ['limit', '', 'limit must be an integer number'],
      ['limit', ['1', '2'], 'limit must be an integer number'],
      ['offset', '-1', 'offset must be an integer number'],
      ['offset', -1, 'offset must not be less than 0'],
      ['offset', 'x', 'offset must be an integer number'],
      ['offset', '9007199254740992', 'offset must not be greater than 9007199254740991'],
    ])('rejects %s=%p naming it: %s', (param, value, message) => {
      expect(rejection(() => validateParams(ListLostReasonsDto, { [param]: value }))).toEqual({ param, message });
    });
  });
});

describe('validateParams, given what it returned', () => {
  it('checks it again, as anything else, even a DTO instance made elsewhere: nothing marks what it returned', () => {
    const validate = jest.spyOn(classValidator, 'validateSync');
    const checked = validateParams(CreateLostReasonDto, { lost_reason: 'once' });
    const again = validateParams(CreateLostReasonDto, checked);
    expect(again).not.toBe(checked);
    expect(again).toEqual(checked);
    expect(validate).toHaveBeenCalledTimes(2);
    validate.mockRestore();
    expect(Object.keys(checked)).toEqual(['lost_reason']);
    expect(Object.getOwnPropertySymbols(checked)).toEqual([]);
    expect(JSON.stringify(checked)).toBe('{"lost_reason":"once"}');
    const forged = Object.assign(new CreateLostReasonDto(), { lost_reason: 42 });
    expect(() => validateParams(CreateLostReasonDto, forged)).toThrow(InvalidRequestException);
    expect(() => validateParams(CreateLostReasonDto, { ...checked, extra: 1 })).toThrow(InvalidRequestException);
  });
});

describe('RepeatedParamsValidator', () => {
  let listParams: RepeatedParamsValidator<ListLostReasonsDto>;
  beforeEach(() => (listParams = new RepeatedParamsValidator(ListLostReasonsDto)));
  afterEach(() => jest.restoreAllMocks());

  it('checks a query once, then hands out the same frozen instance for the same parameters', () => {
    const validate = jest.spyOn(classValidator, 'validateSync');
    const first = listParams.validate({ limit: '7', offset: '3' });
    const again = listParams.validate({ limit: '7', offset: '3' });
    expect(first).toEqual(expect.objectContaining({ limit: 7, offset: 3 }));
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(validate).toHaveBeenCalledTimes(1);
    expect(listParams.validate(undefined)).toBe(listParams.validate({}));
  });

  it('keeps apart what differs in value, in type, or in the parameters named', () => {
    const text = listParams.validate({ limit: '8' });
    const number = listParams.validate({ limit: 8 });
    expect(number).not.toBe(text);
    expect(listParams.validate({ limit: '9' }).limit).toBe(9);
    const offset = listParams.validate({ offset: '8' });
    expect([offset.offset, offset.limit]).toEqual([8, undefined]);
    // A number-looking string is refused by the same rules as without the memo.
    expect(rejection(() => listParams.validate({ limit: '1e1' })).param).toBe('limit');
  });

  it('checks and throws a refusal every time: only what passed is remembered', () => {
    const validate = jest.spyOn(classValidator, 'validateSync');
    for (let i = 0; i < 3; i++) expect(rejection(() => listParams.validate({ limit: '0' })).param).toBe('limit');
    expect(validate).toHaveBeenCalledTimes(3);
    expect(rejection(() => listParams.validate({ limit: '20', colour: 'red' })).param).toBe('colour');
  });

  it('checks every time what is not a short object of strings and numbers', () => {
    const validate = jest.spyOn(classValidator, 'validateSync');
    const long = { starting_after: 'x'.repeat(300) };
    listParams.validate(long);
    listParams.validate(long);
    expect(validate).toHaveBeenCalledTimes(2);
    for (let i = 0; i < 2; i++) expect(rejection(() => listParams.validate({ limit: ['20'] })).param).toBe('limit');
    const inherited = Object.create({ limit: '20' }) as object;
    expect(listParams.validate(inherited)).not.toBe(listParams.validate(inherited));
  });

  it('checks and remembers the values it read once, not what a getter answers later', () => {
    let reads = 0;
    const shifty = {
      get limit() {
        reads++;
        return reads === 1 ? '3' : '0';
      },
    };
    // Not own-enumerable data as a query is, but an accessor: read once for the key and the check.
    expect(listParams.validate(shifty).limit).toBe(3);
    expect(listParams.validate({ limit: '3' }).limit).toBe(3);
    expect(reads).toBe(1);
  });

  it('stays bounded: past its size it starts over, and still answers right', () => {
    for (let i = 0; i < 600; i++) expect(listParams.validate({ offset: String(i) }).offset).toBe(i);
    expect(listParams.validate({ offset: '5' }).offset).toBe(5);
  });

  it('keeps its memo to itself: another validator (another provider) checks again', () => {
    const validate = jest.spyOn(classValidator, 'validateSync');
    const first = listParams.validate({ limit: '4' });
    expect(listParams.validate({ limit: '4' })).toBe(first);
    const other = new RepeatedParamsValidator(ListLostReasonsDto).validate({ limit: '4' });
    expect(other).not.toBe(first);
    expect(other).toEqual(first);
    expect(validate).toHaveBeenCalledTimes(2);
  });
});

describe('ParamsValidator', () => {
  it('reads the declared parameters once, when made, and checks as validateParams does', () => {
    const read = jest.spyOn(classValidator.getMetadataStorage(), 'getTargetValidationMetadatas');
    const createParams = new ParamsValidator(CreateLostReasonDto);
    expect(read).toHaveBeenCalledTimes(1);
    expect(createParams.validate({ lost_reason: 'a' })).toEqual(validateParams(CreateLostReasonDto, { lost_reason: 'a' }));
    expect(rejection(() => createParams.validate({ colour: 'red' }))).toEqual(
      rejection(() => validateParams(CreateLostReasonDto, { colour: 'red' })),
    );
    read.mockClear();
    createParams.validate({ lost_reason: 'b' });
    expect(read).not.toHaveBeenCalledWith(CreateLostReasonDto, '', true, false);
    read.mockRestore();
  });
});
