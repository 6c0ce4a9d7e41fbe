import { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, LOST_REASON_ID_PREFIX, LOST_REASON_MAX_LENGTH } from '../lib';
import { expectContractObject, RESOURCE_MISSING } from './support/contract';
import { describeEach, testedDatabases } from './support/databases';
import { auth, createHostApp, RESOURCE } from './support/host-app';

/**
 * Model-based test: fast-check drives random sequences of create / retrieve / update / delete /
 * list (plus invalid requests) through the HTTP API and compares every answer with a plain
 * in-memory model. The requests are sequential, so the model's insertion order is the truth
 * for the list order (newest first).
 *
 * Reproducible by default (fixed seed); `FC_SEED=<n>` explores another part of the space and
 * `FC_NUM_RUNS=<n>` runs more or fewer sequences. A failure prints the seed, the path and the
 * shrunk sequence of commands.
 */

const DEFAULT_SEED = 20260115;
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : DEFAULT_SEED;
const MAX_COMMANDS = 40;

interface LostReasonObject {
  id: string;
  created_at: string;
  updated_at: string;
  lost_reason: string | null;
}

/** Newest first, exactly as the list must answer it; ids learnt from the create answers. */
interface Model {
  objects: LostReasonObject[];
  deleted: string[];
}

interface Real {
  api: () => ReturnType<typeof request>;
}

type LostReasonCommand = fc.AsyncCommand<Model, Real>;

// ---------------------------------------------------------------------------------------------
// Values

const codePoints = (text: string) => [...text].length;
/** Valid `lost_reason` text: well-formed Unicode without NUL, at most the maximum length. */
const clamp = (text: string) => [...text.replace(/\0/g, '')].slice(0, LOST_REASON_MAX_LENGTH).join('');

const validText: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) }, // emoji, combining marks, ZWJ sequences
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) }, // any code point: astral, controls, RTL
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 10 }).map((s) => ` ${s}  `) }, // spaces kept
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: LOST_REASON_MAX_LENGTH - 5, maxLength: LOST_REASON_MAX_LENGTH }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'a'.repeat(LOST_REASON_MAX_LENGTH),
        '😀'.repeat(LOST_REASON_MAX_LENGTH),
        'é'.repeat(LOST_REASON_MAX_LENGTH),
      ),
    },
  )
  .map(clamp);

/** `lost_reason` in a body: a string, null, or absent (`{}`). */
type Field = { kind: 'set'; value: string | null } | { kind: 'absent' };
const field: fc.Arbitrary<Field> = fc.oneof(
  { weight: 5, arbitrary: validText.map((value): Field => ({ kind: 'set', value })) },
  { weight: 1, arbitrary: fc.constant<Field>({ kind: 'set', value: null }) },
  { weight: 1, arbitrary: fc.constant<Field>({ kind: 'absent' }) },
);
const bodyOf = (f: Field): object => (f.kind === 'set' ? { lost_reason: f.value } : {});
const showField = (f: Field) =>
  f.kind === 'absent' ? '{}' : JSON.stringify({ lost_reason: f.value === null ? null : abbreviate(f.value) });
const abbreviate = (text: string) =>
  codePoints(text) > 24 ? `${[...text].slice(0, 12).join('')}…(${codePoints(text)} code points)` : text;

/** Which object a command addresses: one the model holds, one deleted before, or a made-up id. */
type Target = { kind: 'existing'; index: number } | { kind: 'deleted'; index: number } | { kind: 'unknown'; id: string };
const hex32 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 });
const unknownId: fc.Arbitrary<string> = fc.oneof(
  hex32.map((hex) => `${LOST_REASON_ID_PREFIX}${hex}`), // well-formed, never issued
  hex32.map((hex) => `${LOST_REASON_ID_PREFIX}${hex.toUpperCase()}x`),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), // anything at all (percent-encoded in the path)
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 80 }),
);
const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 6, arbitrary: fc.nat().map((index): Target => ({ kind: 'existing', index })) },
  { weight: 2, arbitrary: fc.nat().map((index): Target => ({ kind: 'deleted', index })) },
  { weight: 2, arbitrary: unknownId.map((id): Target => ({ kind: 'unknown', id })) },
);
/** Commands aimed at existing / deleted objects only apply when the model has some. */
const applies = (t: Target, m: Model) =>
  t.kind === 'existing' ? m.objects.length > 0 : t.kind === 'deleted' ? m.deleted.length > 0 : true;
const resolve = (t: Target, m: Model): string =>
  t.kind === 'existing' ? m.objects[t.index % m.objects.length].id : t.kind === 'deleted' ? m.deleted[t.index % m.deleted.length] : t.id;
const showTarget = (t: Target) => (t.kind === 'unknown' ? `unknown ${JSON.stringify(abbreviate(t.id))}` : `${t.kind}#${t.index}`);
/**
 * The id in the URL. A made-up id that is `.` or `..` would be a path segment, not an id, so
 * those are encoded in full.
 */
const pathOf = (id: string) => `${RESOURCE}/${id === '.' || id === '..' ? id.replace(/\./g, '%2E') : encodeURIComponent(id)}`;

// ---------------------------------------------------------------------------------------------
// Checks shared by commands

const expectMissing = (response: request.Response) => {
  expect(response.status).toBe(404);
  expect(response.body.error).toMatchObject({ ...RESOURCE_MISSING, message: expect.any(String) });
};

const expectInvalid = (response: request.Response, param: string) => {
  expect(response.status).toBe(400);
  expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param, message: expect.any(String) });
};

/** The whole table, read through the API, equals the model (used after invalid writes and at the end). */
const expectStoreEqualsModel = async (m: Model, r: Real) => {
  const { status, body } = await r.api().get(`${RESOURCE}?limit=${LIST_LIMIT_MAX}`).set(auth);
  expect(status).toBe(200);
  const { data, has_more, total } = body;
  expect({ data, has_more, total }).toEqual({
    data: m.objects.slice(0, LIST_LIMIT_MAX),
    has_more: m.objects.length > LIST_LIMIT_MAX,
    total: m.objects.length,
  });
};

// ---------------------------------------------------------------------------------------------
// Commands

class CreateCommand implements LostReasonCommand {
  /** `{}`, or with `noBody` no body at all: both create an object with `lost_reason: null`. */
  constructor(
    readonly value: Field,
    readonly noBody: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const req = r.api().post(RESOURCE).set(auth);
    const sendsNothing = this.value.kind === 'absent' && this.noBody;
    const response = sendsNothing ? await req : await req.send(bodyOf(this.value));
    expect(response.status).toBe(201);
    const body = response.body as LostReasonObject;
    expectContractObject(body);
    expect(m.objects.map((o) => o.id).concat(m.deleted)).not.toContain(body.id);
    expect(body.updated_at).toBe(body.created_at);
    expect(body.lost_reason).toBe(this.value.kind === 'set' ? this.value.value : null);
    // Sequential creates: the new one is the newest (created_at never goes back).
    if (m.objects.length > 0) expect(body.created_at >= m.objects[0].created_at).toBe(true);
    m.objects.unshift(body);
  }
  toString = () => `Create(${this.value.kind === 'absent' && this.noBody ? 'no body' : showField(this.value)})`;
}

class RetrieveCommand implements LostReasonCommand {
  constructor(readonly target: Target) {}
  check = (m: Readonly<Model>) => applies(this.target, m);
  async run(m: Model, r: Real) {
    const id = resolve(this.target, m);
    const response = await r.api().get(pathOf(id)).set(auth);
    const expected = m.objects.find((o) => o.id === id);
    if (expected === undefined) return expectMissing(response);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(expected);
  }
  toString = () => `Retrieve(${showTarget(this.target)})`;
}

class UpdateCommand implements LostReasonCommand {
  constructor(
    readonly target: Target,
    readonly value: Field,
  ) {}
  check = (m: Readonly<Model>) => applies(this.target, m);
  async run(m: Model, r: Real) {
    const id = resolve(this.target, m);
    const response = await r.api().patch(pathOf(id)).set(auth).send(bodyOf(this.value));
    const index = m.objects.findIndex((o) => o.id === id);
    if (index < 0) return expectMissing(response);
    const before = m.objects[index];
    expect(response.status).toBe(200);
    const body = response.body as LostReasonObject;
    expectContractObject(body);
    // Strictly forward on every update, even one that changes nothing; created_at never moves.
    expect(body.updated_at > before.updated_at).toBe(true);
    const after: LostReasonObject = {
      ...before,
      updated_at: body.updated_at,
      ...(this.value.kind === 'set' ? { lost_reason: this.value.value } : {}),
    };
    expect(body).toEqual(after);
    m.objects[index] = after; // an update does not move the object in the list
  }
  toString = () => `Update(${showTarget(this.target)}, ${showField(this.value)})`;
}

class DeleteCommand implements LostReasonCommand {
  constructor(readonly target: Target) {}
  check = (m: Readonly<Model>) => applies(this.target, m);
  async run(m: Model, r: Real) {
    const id = resolve(this.target, m);
    const response = await r.api().delete(pathOf(id)).set(auth);
    const index = m.objects.findIndex((o) => o.id === id);
    if (index < 0) return expectMissing(response);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id, deleted: true });
    m.objects.splice(index, 1);
    m.deleted.push(id);
  }
  toString = () => `Delete(${showTarget(this.target)})`;
}

class ListCommand implements LostReasonCommand {
  /** `offsetSeed` is taken modulo (size + 6): offsets 0..size+5, pages within and past the end. */
  constructor(
    readonly limit: number | undefined,
    readonly offsetSeed: number | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const size = m.objects.length;
    const offset = this.offsetSeed === undefined ? undefined : this.offsetSeed % (size + 6);
    const query = [this.limit === undefined ? '' : `limit=${this.limit}`, offset === undefined ? '' : `offset=${offset}`]
      .filter(Boolean)
      .join('&');
    const response = await r
      .api()
      .get(query ? `${RESOURCE}?${query}` : RESOURCE)
      .set(auth);
    expect(response.status).toBe(200);
    const start = offset ?? 0;
    const data = m.objects.slice(start, start + (this.limit ?? LIST_LIMIT_DEFAULT));
    const { data: page, has_more, total } = response.body;
    expect({ data: page, has_more, total }).toEqual({ data, has_more: start + data.length < size, total: size });
    const stamps = (response.body.data as LostReasonObject[]).map((o) => o.created_at);
    expect(stamps).toEqual([...stamps].sort().reverse()); // created_at non-increasing along the page
  }
  toString = () =>
    `List(${this.limit === undefined ? 'limit default' : `limit=${this.limit}`}, ${this.offsetSeed === undefined ? 'offset default' : `offset=${this.offsetSeed}%(size+6)`})`;
}

/** A list with a bad `limit` or `offset`: 400 naming it. */
class InvalidListCommand implements LostReasonCommand {
  constructor(
    readonly query: string,
    readonly param: string,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    expectInvalid(await r.api().get(`${RESOURCE}?${this.query}`).set(auth), this.param);
  }
  toString = () => `InvalidList(?${this.query})`;
}

const invalidLostReason: fc.Arbitrary<{ label: string; value: unknown }> = fc.oneof(
  fc
    .integer({ min: 1, max: 40 })
    .map((extra) => ({ label: `${LOST_REASON_MAX_LENGTH + extra} × "a"`, value: 'a'.repeat(LOST_REASON_MAX_LENGTH + extra) })),
  fc
    .integer({ min: 1, max: 40 })
    .map((extra) => ({ label: `${LOST_REASON_MAX_LENGTH + extra} × "😀"`, value: '😀'.repeat(LOST_REASON_MAX_LENGTH + extra) })),
  fc
    .string({ unit: 'binary', minLength: LOST_REASON_MAX_LENGTH + 1, maxLength: LOST_REASON_MAX_LENGTH + 20 })
    .map((value) => ({ label: `${codePoints(value)} random code points`, value })),
  fc.constantFrom(
    { label: 'a NUL character', value: 'a\u0000b' },
    { label: 'a lone surrogate', value: 'a\ud800b' },
    { label: 'a number', value: 42 },
    { label: 'an array', value: ['a'] },
  ),
);

/** A create or update with an invalid `lost_reason`: 400 naming it, and nothing changes. */
class InvalidWriteCommand implements LostReasonCommand {
  constructor(
    readonly target: Target | undefined, // undefined: create
    readonly invalid: { label: string; value: unknown },
  ) {}
  check = (m: Readonly<Model>) => this.target === undefined || applies(this.target, m);
  async run(m: Model, r: Real) {
    const body = { lost_reason: this.invalid.value };
    const response =
      this.target === undefined
        ? await r.api().post(RESOURCE).set(auth).send(body)
        : await r
            .api()
            .patch(pathOf(resolve(this.target, m)))
            .set(auth)
            .send(body);
    expectInvalid(response, 'lost_reason');
    await expectStoreEqualsModel(m, r);
  }
  toString = () => `Invalid${this.target === undefined ? 'Create(' : `Update(${showTarget(this.target)}, `}${this.invalid.label})`;
}

/** Several creates in a row, so that tables reach past a default page (20) and paging has more to do. */
class CreateManyCommand implements LostReasonCommand {
  constructor(readonly creates: CreateCommand[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    for (const create of this.creates) await create.run(m, r);
  }
  toString = () => `CreateMany(${this.creates.length} × ${this.creates[0]})`;
}

const createCommand = fc.record({ value: field, noBody: fc.boolean() }).map(({ value, noBody }) => new CreateCommand(value, noBody));

/** One weighted choice: creates outnumber deletes so tables grow; invalid requests now and then. */
const command: fc.Arbitrary<LostReasonCommand> = fc.oneof(
  { weight: 8, arbitrary: createCommand },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 2, max: 25 }), fc.record({ value: field, noBody: fc.boolean() }))
      .map(([count, { value, noBody }]) => new CreateManyCommand(Array.from({ length: count }, () => new CreateCommand(value, noBody)))),
  },
  { weight: 4, arbitrary: target.map((t) => new RetrieveCommand(t)) },
  { weight: 4, arbitrary: fc.record({ target, value: field }).map(({ target: t, value }) => new UpdateCommand(t, value)) },
  { weight: 3, arbitrary: target.map((t) => new DeleteCommand(t)) },
  {
    weight: 5,
    arbitrary: fc
      .record(
        {
          limit: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: LIST_LIMIT_MAX })),
          offsetSeed: fc.nat({ max: 1000 }),
        },
        { requiredKeys: [] },
      )
      .map(({ limit, offsetSeed }) => new ListCommand(limit, offsetSeed)),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        ['limit=0', 'limit'],
        [`limit=${LIST_LIMIT_MAX + 1}`, 'limit'],
        ['limit=-1', 'limit'],
        ['limit=2.5', 'limit'],
        ['limit=abc', 'limit'],
        ['limit=', 'limit'],
        ['offset=-1', 'offset'],
        ['offset=1.5', 'offset'],
        ['offset=x', 'offset'],
      )
      .map(([query, param]) => new InvalidListCommand(query, param)),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ target: fc.option(target, { nil: undefined }), invalid: invalidLostReason })
      .map(({ target: t, invalid }) => new InvalidWriteCommand(t, invalid)),
  },
);

// ---------------------------------------------------------------------------------------------

describeEach(testedDatabases())('Opportunity Lost Reason API against an in-memory model', (db) => {
  let app: INestApplication;
  const real: Real = { api: () => request(app.getHttpServer()) };

  beforeAll(async () => {
    app = await createHostApp({ db });
  });
  afterAll(async () => {
    await app?.close();
  });

  const numRuns = process.env.FC_NUM_RUNS !== undefined ? Number(process.env.FC_NUM_RUNS) : db === 'sqlite' ? 25 : 10;

  it(`answers every random sequence of requests as the model does (${numRuns} runs, up to ${MAX_COMMANDS} commands, seed ${seed})`, async () => {
    let model: Model = { objects: [], deleted: [] };
    const setup = async () => {
      await app.get(DataSource).query('DELETE FROM opportunity_lost_reason');
      model = { objects: [], deleted: [] };
      return { model, real };
    };
    await fc.assert(
      fc.asyncProperty(fc.commands([command], { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
        await fc.asyncModelRun(setup, cmds);
        // Whatever the sequence, the table ends exactly as the model.
        await expectStoreEqualsModel(model, real);
      }),
      { numRuns, seed },
    );
  }, 300_000);
});
