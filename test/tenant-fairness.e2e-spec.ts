import { INestApplication } from '@nestjs/common';
import { Agent, request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { LostReasonModule } from '../lib';
import { storedTenantId } from '../lib/tenancy/tenant-id.util';
import { describeEach, testedDatabases } from './support/databases';
import { createHostApp, RESOURCE } from './support/host-app';

/**
 * One tenant's burst of expensive lists against another tenant's single request (issue 20,
 * part 7). What is asserted is the order answers come back in, not how long they take: the
 * other tenant's request is answered ahead of the burst sent before it, not behind it.
 */
const API_KEY = 'sk_test_noisy';
/** Requests that reached the module, per tenant: the host's tenant function sees each first. */
const arrived: Record<string, number> = {};
const tenantOf = (request: { headers: Record<string, string | string[] | undefined> }) => {
  const tenant = String(request.headers['x-tenant']);
  arrived[tenant] = (arrived[tenant] ?? 0) + 1;
  return tenant;
};
const DEEPEST_OFFSET = 10_000;
const ROWS = DEEPEST_OFFSET + 100;
const CONCURRENT = 2;
const BURST = 100;

describeEach(testedDatabases())('one tenant cannot starve another', (db) => {
  let app: INestApplication;
  // Sockets opened once and kept: a burst's requests then reach the server together, not one
  // connection set-up at a time.
  const agent = new Agent({ keepAlive: true, maxSockets: BURST + 1 });
  const list = (tenant: string, query: string) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const { port } = app.getHttpServer().address() as AddressInfo;
      const headers = { Authorization: `Bearer ${API_KEY}`, 'X-Tenant': tenant };
      httpRequest({ port, path: `${RESOURCE}?${query}`, agent, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      })
        .on('error', reject)
        .end();
    });

  beforeAll(async () => {
    app = await createHostApp({
      db,
      imports: [LostReasonModule.forRoot({ apiKeys: [API_KEY], tenant: tenantOf, maxConcurrentRequests: CONCURRENT })],
    });
    await app.listen(0, '127.0.0.1');
    const dataSource = app.get(DataSource);
    const tenant = storedTenantId('acme');
    for (let first = 0; first < ROWS; first += 1000) {
      const rows = Array.from({ length: Math.min(1000, ROWS - first) }, (_, i) => {
        const n = first + i;
        const at = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
        return `('${tenant}', 'opportunity-lost-reason_noisy${String(n).padStart(20, '0')}', '${at}', '${at}')`;
      });
      await dataSource.query(`INSERT INTO opportunity_lost_reason (tenant_id, id, created_at, updated_at) VALUES ${rows.join(', ')}`);
    }
  }, 120_000);
  afterAll(async () => {
    agent.destroy();
    await app?.close();
  });

  it(`lists at offset ${DEEPEST_OFFSET}, the deepest one served`, async () => {
    const page = await list('acme', `offset=${DEEPEST_OFFSET}&limit=100`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ has_more: false, total: ROWS });
    expect(page.body.data).toHaveLength(100);
    expect(page.body.data[99].id).toBe(`opportunity-lost-reason_noisy${'0'.repeat(20)}`);
  });

  it('refuses a deeper offset inside the list with a 400 that points to starting_after, changing nothing', async () => {
    const refused = await list('acme', `offset=${DEEPEST_OFFSET + 1}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'offset' });
    expect(refused.body.error.message).toContain('starting_after');
  });

  it('answers an offset past the end of the list with an empty page, however deep', async () => {
    expect(await list('globex', `offset=${DEEPEST_OFFSET + 1}`)).toEqual({ status: 200, body: { data: [], has_more: false, total: 0 } });
    expect(await list('acme', `offset=${Number.MAX_SAFE_INTEGER}`)).toEqual({
      status: 200,
      body: { data: [], has_more: false, total: ROWS },
    });
  });

  it(`answers another tenant ahead of all but ${3 * CONCURRENT} of the ${BURST} deep lists of one tenant that reached the module before it`, async () => {
    await Promise.all(Array.from({ length: BURST + 1 }, () => list('globex', 'limit=1')));
    let answered = 0;
    const burst = Array.from({ length: BURST }, () =>
      list('acme', `offset=${DEEPEST_OFFSET - 100}&limit=100`).then((response) => {
        answered++;
        return response;
      }),
    );
    // The other tenant's request goes out once the whole burst has reached the module.
    const before = arrived.acme ?? 0;
    await new Promise<void>((resolve) => {
      const check = () => ((arrived.acme ?? 0) - before === BURST ? resolve() : setImmediate(check));
      check();
    });
    const waiting = BURST - answered;
    const other = await list('globex', 'limit=1');
    const answeredAfterOther = BURST - answered;
    const flooded = await Promise.all(burst);
    expect(other.status).toBe(200);
    expect(flooded.every((response) => response.status === 200 && response.body.data.length === 100)).toBe(true);
    // First come, first served, the other tenant's request would be answered after all of them.
    expect(waiting).toBeGreaterThan(3 * CONCURRENT);
    expect(answeredAfterOther).toBeGreaterThanOrEqual(waiting - 3 * CONCURRENT);
  });
});
