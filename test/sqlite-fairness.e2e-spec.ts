import { INestApplication } from '@nestjs/common';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { LOST_REASON_ENTITIES, LostReasonModule } from '../lib';
import { storedTenantId } from '../lib/tenancy/tenant-id.util';
import { testedDatabases } from './support/databases';
import { auth, createHostApp, RESOURCE } from './support/host-app';

/**
 * SQLite's driver is synchronous: a statement holds the event loop, and with it every other
 * tenant's request. A million rows of one tenant, lists of that tenant in parallel: another
 * tenant's request is still answered well within the deadline, on the schema `synchronize`
 * builds (the sample's default before; hosts' development setting).
 */
const ROWS = 1_000_000;
const REQUEST_TIMEOUT_MS = 2000;
const PARALLEL_LISTS = 150;
const KEYS = { sk_test_fair_acme: 'acme', sk_test_fair_globex: 'globex' };

const onSqlite = testedDatabases().includes('sqlite') ? describe : describe.skip;

/**
 * A new SQLite file holding the host's data, there before the module starts: the table as
 * `synchronize` builds it (no count triggers) and `count` objects of `tenant`.
 */
async function seededSqliteFile(name: string, count: number, tenant: string): Promise<string> {
  const file = join(tmpdir(), `lost-reason-${name}-${process.pid}.sqlite`);
  rmSync(file, { force: true });
  const seed = await new DataSource({
    type: 'better-sqlite3',
    database: file,
    entities: [...LOST_REASON_ENTITIES],
    synchronize: true,
  }).initialize();
  await seed.query(
    `INSERT INTO opportunity_lost_reason (tenant_id, id, created_at, updated_at) ` +
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count}) ` +
      `SELECT ?, 'opportunity-lost-reason_' || printf('%032x', i), '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n`,
    [tenant],
  );
  await seed.destroy();
  return file;
}

onSqlite('one tenant cannot stall the others on SQLite (synchronize schema)', () => {
  let file: string;
  let app: INestApplication;

  beforeAll(async () => {
    file = await seededSqliteFile('fairness', ROWS, storedTenantId('acme'));
    app = await createHostApp({
      db: 'sqlite',
      imports: [LostReasonModule.forRoot({ apiKeys: KEYS, requestTimeoutMs: REQUEST_TIMEOUT_MS })],
      keepRows: true,
      database: { database: file },
    });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    if (file) rmSync(file, { force: true });
  });

  it(`answers another tenant within the deadline while ${PARALLEL_LISTS} lists of a ${ROWS}-row tenant run`, async () => {
    const server = app.getHttpServer();
    const list = (key: string) => request(server).get(`${RESOURCE}?limit=20`).set('Authorization', `Bearer ${key}`);
    expect((await list('sk_test_fair_acme').expect(200)).body.total).toBe(ROWS);
    // `.then` sends a supertest request; the other tenant's goes out once the flood is in flight.
    const flood = Array.from({ length: PARALLEL_LISTS }, () => list('sk_test_fair_acme').then((response) => response));
    await new Promise((resolve) => setImmediate(resolve));
    const other = await list('sk_test_fair_globex');
    const flooded = await Promise.all(flood);
    // Past its deadline the module answers 503: a 200 is an answer in time (each statement is
    // short, so the deadline's timer runs between them).
    expect(other.status).toBe(200);
    expect(other.body.total).toBe(0);
    expect(flooded.every((response) => response.status === 200 && response.body.total === ROWS)).toBe(true);
  }, 120_000);
});

onSqlite('a read-only SQLite database without the count table', () => {
  let file: string;
  let app: INestApplication;

  beforeAll(async () => {
    file = await seededSqliteFile('readonly', 1, '');
    app = await createHostApp({ db: 'sqlite', keepRows: true, database: { database: file, readonly: true, synchronize: false } as object });
  });
  afterAll(async () => {
    await app?.close();
    if (file) rmSync(file, { force: true });
  });

  it('serves reads, counting with COUNT(*), since the module cannot keep the count there', async () => {
    const list = await request(app.getHttpServer()).get(RESOURCE).set(auth).expect(200);
    expect(list.body.total).toBe(1);
    await request(app.getHttpServer()).get(`${RESOURCE}/${list.body.data[0].id}`).set(auth).expect(200);
  });
});
