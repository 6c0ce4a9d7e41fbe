import * as classValidator from 'class-validator';
import { DataSource } from 'typeorm';
import { CreateLostReasonDto } from '../dto';
import { IdempotencyException, InvalidRequestException } from '../errors';
import { storedTenantId } from '../tenancy/tenant-id.util';
import { LostReasonIdempotencyKey } from '../persistence/idempotency-key.entity';
import { idempotencyKeyOf } from './idempotency-key.parser';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.constants';
import { LostReasonIdempotency } from './idempotency.service';
import { keyIdOf, requestHashesOf } from './request-hash.util';

const REQUEST_TIMEOUT_MS = 1000;

describe('idempotencyKeyOf', () => {
  it('reads the header, and refuses what is not 1 to 255 printable ASCII characters', () => {
    expect(idempotencyKeyOf({ headers: {} })).toBeUndefined();
    expect(idempotencyKeyOf({ headers: { 'idempotency-key': 'order 1' } })).toBe('order 1');
    for (const bad of ['', 'x'.repeat(256), 'tab\tkey', 'ключ', ['a', 'b']]) {
      expect(() => idempotencyKeyOf({ headers: { 'idempotency-key': bad } })).toThrow(InvalidRequestException);
    }
  });
});

describe('requestHashesOf', () => {
  it('hashes what the parameters mean; an empty body also matches the hash stored before 0.1.1', () => {
    expect(requestHashesOf('a').current).not.toBe(requestHashesOf('b').current);
    expect(requestHashesOf('a').earlier).toBe(requestHashesOf('a').current);
    expect(requestHashesOf(null).earlier).not.toBe(requestHashesOf(null).current);
  });
});

describe('the idempotency protocol (SQLite: no module transactions)', () => {
  let dataSource: DataSource;
  let idempotency: LostReasonIdempotency;
  const keys = () => dataSource.getRepository(LostReasonIdempotencyKey);
  let created = 0;
  const create = async () => ({ id: `object_${++created}` });

  beforeAll(async () => {
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [LostReasonIdempotencyKey],
      synchronize: true,
    }).initialize();
    idempotency = new LostReasonIdempotency(keys(), { requestTimeoutMs: REQUEST_TIMEOUT_MS });
  });
  afterAll(async () => {
    await idempotency.onModuleDestroy();
    await dataSource.destroy();
  });
  beforeEach(async () => {
    await keys().clear();
    created = 0;
  });

  it('runs the first request, then replays its stored answer to a retry without running it again', async () => {
    const first = await idempotency.run('', 'k', { lost_reason: 'a' }, create);
    expect(first).toEqual({ status: 201, body: { id: 'object_1' }, replayed: false });
    expect(await idempotency.run('', 'k', { lost_reason: 'a' }, create)).toEqual({ status: 201, body: { id: 'object_1' }, replayed: true });
    expect(created).toBe(1);
  });

  it('checks the parameters once, before the claim, and hands create the checked instance', async () => {
    const validate = jest.spyOn(classValidator, 'validateSync');
    try {
      let given: unknown;
      await idempotency.run('', 'once', { lost_reason: 'a' }, async (_manager, params) => {
        given = params;
        return { id: 'object_once' };
      });
      expect(validate).toHaveBeenCalledTimes(1);
      expect(given).toBeInstanceOf(CreateLostReasonDto);
      expect(given).toEqual({ lost_reason: 'a' });
    } finally {
      validate.mockRestore();
    }
  });

  it('treats no body, {} and an explicit null as the same request', async () => {
    await idempotency.run('', 'k', undefined, create);
    expect((await idempotency.run('', 'k', {}, create)).replayed).toBe(true);
    expect((await idempotency.run('', 'k', { lost_reason: null }, create)).replayed).toBe(true);
  });

  it('refuses the same key with other parameters (400), and invalid parameters before claiming anything', async () => {
    await idempotency.run('', 'k', { lost_reason: 'a' }, create);
    await expect(idempotency.run('', 'k', { lost_reason: 'b' }, create)).rejects.toMatchObject({ status: 400 });
    await expect(idempotency.run('', 'other', { lost_reason: 42 }, create)).rejects.toThrow(InvalidRequestException);
    expect(await keys().countBy({ idempotency_key: 'other' })).toBe(0);
  });

  it('answers 409 while the first request runs, and keeps keys apart per tenant', async () => {
    let finish: (() => void) | undefined;
    const slow = () => new Promise<{ id: string }>((resolve) => (finish = () => resolve({ id: 'slow' })));
    const running = idempotency.run('acme', 'k', {}, slow);
    // Its create has started: the key is claimed.
    while (finish === undefined) await new Promise((resolve) => setImmediate(resolve));
    const conflict = await idempotency.run('acme', 'k', {}, create).catch((error: IdempotencyException) => error);
    expect(conflict).toBeInstanceOf(IdempotencyException);
    expect((conflict as IdempotencyException).getStatus()).toBe(409);
    expect((await idempotency.run('globex', 'k', {}, create)).replayed).toBe(false);
    finish!();
    expect((await running).body).toEqual({ id: 'slow' });
    expect((await keys().find()).map((key) => key.tenant_id).sort()).toEqual([storedTenantId('acme'), storedTenantId('globex')].sort());
  });

  it('gives the key back when the request fails, so a retry runs', async () => {
    await expect(idempotency.run('', 'k', {}, () => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    expect(await keys().count()).toBe(0);
    expect((await idempotency.run('', 'k', {}, create)).replayed).toBe(false);
  });

  it('takes over a claim held longer than the lock timeout, and treats an expired key as never used', async () => {
    await keys().insert({
      id: keyIdOf('', 'stuck'),
      tenant_id: '',
      idempotency_key: 'stuck',
      request_hash: requestHashesOf(null).current,
      status: null,
      response: null,
      created_at: new Date(Date.now() - 2 * REQUEST_TIMEOUT_MS - 1000).toISOString(), // past the lock timeout: twice the deadline
    });
    expect(await idempotency.run('', 'stuck', {}, create)).toMatchObject({ replayed: false, body: { id: 'object_1' } });
    await keys().update({ idempotency_key: 'stuck' }, { created_at: new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS - 1000).toISOString() });
    expect(await idempotency.run('', 'stuck', {}, create)).toMatchObject({ replayed: false, body: { id: 'object_2' } });
  });

  it('prunes keys older than the TTL', async () => {
    await idempotency.run('', 'old', {}, create);
    await keys().update({ idempotency_key: 'old' }, { created_at: new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS - 1000).toISOString() });
    await idempotency.run('', 'new', {}, create);
    expect(await idempotency.pruneExpired()).toBe(1);
    expect((await keys().find()).map((key) => key.idempotency_key)).toEqual(['new']);
  });
});
