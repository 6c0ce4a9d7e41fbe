import * as classValidator from 'class-validator';
import { DataSource, Logger } from 'typeorm';
import { StatementLog } from '../../test/support/statement-log';
import { CreateLostReasonDto } from '../dto';
import { ParamsValidator } from '../dto/params.validator';
import { InvalidRequestException, LostReasonNotFoundException } from '../errors';
import { LostReason } from '../persistence/lost-reason.entity';
import { LostReasonService } from './lost-reason.service';

/** An in-memory SQLite database with the module's table. */
const inMemoryDatabase = (options: { logging?: boolean; logger?: Logger } = {}) =>
  new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [LostReason], synchronize: true, ...options }).initialize();

describe('LostReasonService (on an in-memory SQLite database)', () => {
  let dataSource: DataSource;
  let service: LostReasonService;
  const counter = new StatementLog();

  /** Runs `operation` and answers how many statements it sent. */
  async function statementsOf(operation: () => Promise<unknown>): Promise<number> {
    counter.statements = [];
    await operation().catch(() => undefined);
    return counter.statements.length;
  }

  beforeAll(async () => {
    dataSource = await inMemoryDatabase({ logging: true, logger: counter });
    service = new LostReasonService(dataSource.getRepository(LostReason));
  });
  afterAll(() => dataSource.destroy());
  beforeEach(() => dataSource.getRepository(LostReason).clear());

  it('creates objects with prefixed, random, unique ids and equal timestamps', async () => {
    const a = await service.create({ lost_reason: 'a' });
    const b = await service.create();
    expect(a.id).toMatch(/^opportunity-lost-reason_[0-9a-f]{32}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.updated_at).toBe(a.created_at);
    expect(b.lost_reason).toBeNull();
  });

  it('returns plain objects with exactly the public fields (no internal sequence)', async () => {
    const created = await service.create({ lost_reason: 'x' });
    for (const object of [
      created,
      await service.retrieve(created.id),
      (await service.list()).data[0],
      await service.update(created.id, {}),
    ]) {
      expect(Object.keys(object)).toEqual(['id', 'created_at', 'updated_at', 'lost_reason']);
    }
  });

  it('lists newest first with an exact total and has_more', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await service.create({ lost_reason: String(i) })).id);
    const page = await service.list({ limit: 2, offset: 1 });
    expect(page.data.map((o) => o.id)).toEqual([ids[3], ids[2]]);
    expect(page).toMatchObject({ total: 5, has_more: true });
    expect(await service.list({ offset: 5 })).toEqual({ data: [], has_more: false, total: 5 });
  });

  it('updates only what is given, clears with null, and keeps created_at', async () => {
    const created = await service.create({ lost_reason: 'first' });
    expect((await service.update(created.id, {})).lost_reason).toBe('first');
    const cleared = await service.update(created.id, { lost_reason: null });
    expect(cleared).toMatchObject({ id: created.id, created_at: created.created_at, lost_reason: null });
  });

  it('moves updated_at strictly forward, even within one millisecond', async () => {
    for (let i = 0; i < 50; i++) {
      const created = await service.create({ lost_reason: 'x' });
      const first = await service.update(created.id, {});
      const second = await service.update(created.id, { lost_reason: 'y' });
      expect(first.updated_at > created.updated_at && second.updated_at > first.updated_at).toBe(true);
    }
  });

  it('answers 404, not a TypeError, for ids that are not strings (plain JavaScript callers)', async () => {
    for (const id of [null, undefined, 42, {}]) {
      await expect(service.retrieve(id as never)).rejects.toThrow(LostReasonNotFoundException);
      await expect(service.delete(id as never)).rejects.toThrow(LostReasonNotFoundException);
    }
  });

  it('checks the parameters of create once: createValidated takes them checked, and checks nothing', async () => {
    const validate = jest.spyOn(classValidator, 'validateSync');
    try {
      expect((await service.create({ lost_reason: 'once' })).lost_reason).toBe('once');
      expect(validate).toHaveBeenCalledTimes(1);
      const checked = new ParamsValidator(CreateLostReasonDto).validate({ lost_reason: 'checked' });
      validate.mockClear();
      expect((await service.createValidated(checked)).lost_reason).toBe('checked');
      expect(validate).not.toHaveBeenCalled();
    } finally {
      validate.mockRestore();
    }
  });

  it("throws the API's errors", async () => {
    await expect(service.update('opportunity-lost-reason_' + '0'.repeat(32), {})).rejects.toThrow(LostReasonNotFoundException);
    await expect(service.update('nope', { lost_reason: 1 } as never)).rejects.toThrow(InvalidRequestException);
    await expect(service.delete('nope')).rejects.toThrow(LostReasonNotFoundException);
  });

  it('sends one statement per operation, two for a list page past the end, none for an impossible id', async () => {
    const { id } = await service.create({ lost_reason: 'count me' });
    expect(await statementsOf(() => service.create({ lost_reason: 'x' }))).toBe(1);
    expect(await statementsOf(() => service.retrieve(id))).toBe(1);
    expect(await statementsOf(() => service.update(id, { lost_reason: 'y' }))).toBe(1);
    // Within the same millisecond as the last write too: the UPDATE steps past it by itself.
    expect(await statementsOf(() => service.update(id, { lost_reason: 'z' }))).toBe(1);
    expect(await statementsOf(() => service.list({ limit: 1 }))).toBe(1);
    expect(await statementsOf(() => service.list({ offset: 10 }))).toBe(2);
    expect(await statementsOf(() => service.delete(id))).toBe(1);
    expect(await statementsOf(() => service.retrieve('nope'))).toBe(0);
    expect(await statementsOf(() => service.update('x'.repeat(10_000), {}))).toBe(0);
  });
});

/**
 * Hosts made by today's `nest new` wrap every provider in @nestjs/observe's Proxy. Its `get`
 * trap reads the wrapped instance without the receiver and hands out one wrapper per method,
 * bound to whichever receiver asked first. Views of the service must survive that.
 */
function receiverDroppingProxy<T extends object>(instance: T): T {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(instance, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      if (!wrappers.has(prop)) wrappers.set(prop, (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(receiver, args));
      return wrappers.get(prop);
    },
  });
}

describe('LostReasonService behind a provider proxy that drops the receiver', () => {
  let dataSource: DataSource;
  let service: LostReasonService;

  beforeAll(async () => {
    dataSource = await inMemoryDatabase();
    const plain = new LostReasonService(dataSource.getRepository(LostReason), undefined, { multiTenant: true });
    service = receiverDroppingProxy(plain);
  });
  afterAll(() => dataSource.destroy());

  it('keeps each tenant view to its own tenant', async () => {
    const acme = service.forTenant('acme');
    const globex = service.forTenant('globex');
    const created = await acme.create({ lost_reason: 'acme only' });
    await globex.create({ lost_reason: 'globex only' });
    expect((await acme.list()).data.map((o) => o.lost_reason)).toEqual(['acme only']);
    expect((await globex.list()).data.map((o) => o.lost_reason)).toEqual(['globex only']);
    await expect(globex.retrieve(created.id)).rejects.toThrow(LostReasonNotFoundException);
    await expect(service.list()).rejects.toThrow(/call forTenant/);
  });

  it("keeps a host transaction's manager in a view, and the tenant across both views", async () => {
    await expect(
      dataSource.transaction(async (manager) => {
        await service.withManager(manager).forTenant('initech').create({ lost_reason: 'rolled back' });
        await service.forTenant('initech').withManager(manager).create({ lost_reason: 'rolled back too' });
        throw new Error('host failure');
      }),
    ).rejects.toThrow('host failure');
    expect((await service.forTenant('initech').list()).total).toBe(0);
  });
});
