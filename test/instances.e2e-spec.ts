import { DataSource, DataSourceOptions } from 'typeorm';
import { AppProcess, buildSample, freePort, startSample } from './support/app-process';
import { OBJECT_ID } from './support/contract';
import { DATABASES, dropModuleSchema, testedDatabases } from './support/databases';

/**
 * Many instances: the module keeps no per-process state that matters for correctness. Two
 * processes of the built sample share one PostgreSQL database and take concurrent writes; both
 * must then tell the same story (unique ids, exact totals, one consistent order, latest updates),
 * and an Idempotency-Key sent to both at once creates one object.
 */
const API_KEY = 'sk_test_instances';
const PATH = '/api/crm/opportunity-lost-reason';

const CREATES = 200;
const CREATE_BATCH = 25;
const PATCHED = 40; // objects 0..39 are patched concurrently from both processes
const PATCHES_PER_PROCESS = 3; // per object, from each process
const DELETED = { from: 20, to: 80 }; // objects 20..79 are deleted (20..39 were also patched)
const DELETES_PER_PROCESS = 2; // per object, from each process

interface LostReasonObject {
  id: string;
  created_at: string;
  updated_at: string;
  lost_reason: string | null;
}
interface LostReasonList {
  data: LostReasonObject[];
  has_more: boolean;
  total: number;
}
interface Reply<T = unknown> {
  status: number;
  body: T;
}

/** One process of the sample: A or B, and the resource's URL through it. */
interface Sample extends AppProcess {
  name: string;
  base: string;
}

/** Starts the built sample as process `name` and resolves once it serves. */
async function startInstance(name: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const sample = await startSample(env, `sample ${name}`);
  return { ...sample, name, base: `http://127.0.0.1:${env.PORT}${PATH}` };
}

async function call<T>(sample: Sample, method: string, path = '', body?: unknown): Promise<Reply<T>> {
  const response = await fetch(sample.base + path, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** A POST with an `Idempotency-Key`; `replayed` is its `Idempotent-Replayed` header. */
async function postWithKey<T>(sample: Sample, key: string, body: unknown): Promise<Reply<T> & { replayed: string | null }> {
  const response = await fetch(sample.base, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T, replayed: response.headers.get('idempotent-replayed') };
}

/** The whole list, page by page with limit=100 and offset, through one process. */
async function walk(sample: Sample): Promise<{ ids: string[]; objects: LostReasonObject[]; totals: number[] }> {
  const objects: LostReasonObject[] = [];
  const totals: number[] = [];
  for (let offset = 0; ; offset += 100) {
    const { status, body } = await call<LostReasonList>(sample, 'GET', `?limit=100&offset=${offset}`);
    expect(status).toBe(200);
    objects.push(...body.data);
    totals.push(body.total);
    expect(body.has_more).toBe(offset + body.data.length < body.total);
    if (!body.has_more) break;
    if (offset > 10 * CREATES) throw new Error('the list never ends');
  }
  return { ids: objects.map((object) => object.id), objects, totals };
}

const describeOnPostgres = testedDatabases().includes('postgres') ? describe : describe.skip;

describeOnPostgres('Many instances: two sample processes on one PostgreSQL database', () => {
  let a: Sample | undefined;
  let b: Sample | undefined;
  let dataSource: DataSource | undefined;
  const samples = () => [a!, b!] as const;
  /** The other process than the one at index i (alternating A, B, A, B…). */
  const via = (i: number) => samples()[i % 2];
  const other = (i: number) => samples()[(i + 1) % 2];

  const created: LostReasonObject[] = [];
  /** The answer every object should now give: its latest state. */
  const latest = new Map<string, LostReasonObject>();
  const deleted = new Set<string>();

  beforeAll(async () => {
    buildSample();
    const url = (DATABASES.postgres as { url: string }).url;
    const portA = await freePort();
    let portB = await freePort();
    while (portB === portA) portB = await freePort();
    const env = { DATABASE_URL: url, API_KEYS: API_KEY, NODE_ENV: '' };
    // The sample runs the module's migrations: from an empty schema, one process after the other
    // (the first migrates, the second finds nothing pending).
    await dropModuleSchema('postgres');
    a = await startInstance('A', { ...env, PORT: String(portA) });
    b = await startInstance('B', { ...env, PORT: String(portB) });
    dataSource = await new DataSource({ ...DATABASES.postgres, connectTimeoutMS: 3000 } as DataSourceOptions).initialize();
    await dataSource.query('DELETE FROM opportunity_lost_reason');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await dataSource?.destroy();
    await dropModuleSchema('postgres'); // the synchronize-schema suites start from nothing
  }, 20_000);

  it(`creates ${CREATES} objects in parallel batches through both processes, with unique ids`, async () => {
    for (let start = 0; start < CREATES; start += CREATE_BATCH) {
      const batch = Array.from({ length: Math.min(CREATE_BATCH, CREATES - start) }, (_, k) => start + k);
      const replies = await Promise.all(
        batch.map((i) => call<LostReasonObject>(via(i), 'POST', '', { lost_reason: `created ${i} via ${via(i).name}` })),
      );
      replies.forEach(({ status, body }, k) => {
        expect({ status, i: batch[k] }).toEqual({ status: 201, i: batch[k] });
        expect(body.id).toMatch(OBJECT_ID);
        expect(body.updated_at).toBe(body.created_at);
        created[batch[k]] = body;
      });
    }
    const ids = created.map((object) => object.id);
    expect(ids).toHaveLength(CREATES);
    expect(new Set(ids).size).toBe(CREATES);
    for (const object of created) latest.set(object.id, object);

    // Each process sees every object the other created, exactly as created.
    const seen = await Promise.all(created.map((object, i) => call<LostReasonObject>(other(i), 'GET', `/${object.id}`)));
    seen.forEach((reply, i) => expect(reply).toEqual({ status: 200, body: created[i] }));

    const [total] = await dataSource!.query('SELECT COUNT(*)::int AS n FROM opportunity_lost_reason');
    expect(total.n).toBe(CREATES);
  });

  it('applies concurrent PATCHes of the same objects from both processes atomically; the latest wins everywhere', async () => {
    const patches: Array<{ id: string; i: number; k: number; sample: Sample }> = [];
    for (let i = 0; i < PATCHED; i++) {
      for (let k = 0; k < 2 * PATCHES_PER_PROCESS; k++) patches.push({ id: created[i].id, i, k, sample: via(k) });
    }
    const replies = await Promise.all(
      patches.map(({ id, i, k, sample }) =>
        call<LostReasonObject>(sample, 'PATCH', `/${id}`, { lost_reason: `patch ${k} of ${i} via ${sample.name}` }),
      ),
    );
    const byObject = new Map<string, LostReasonObject[]>();
    replies.forEach(({ status, body }, n) => {
      const { id, i, k, sample } = patches[n];
      expect({ n, status }).toEqual({ n, status: 200 });
      // Each update answers its own result: its own text, the original created_at.
      expect(body).toMatchObject({ id, created_at: created[i].created_at, lost_reason: `patch ${k} of ${i} via ${sample.name}` });
      expect(body.updated_at > body.created_at).toBe(true);
      byObject.set(id, [...(byObject.get(id) ?? []), body]);
    });
    for (const [id, updates] of byObject) {
      // updated_at moves strictly forward: no two updates of one object share a value.
      const stamps = updates.map((update) => update.updated_at);
      expect(new Set(stamps).size).toBe(stamps.length);
      const last = updates.reduce((x, y) => (y.updated_at > x.updated_at ? y : x));
      latest.set(id, last);
    }
    // Both processes answer the latest update, whichever process made it.
    for (const sample of samples()) {
      const now = await Promise.all(created.slice(0, PATCHED).map((object) => call<LostReasonObject>(sample, 'GET', `/${object.id}`)));
      now.forEach((reply, i) =>
        expect({ via: sample.name, ...reply }).toEqual({ via: sample.name, status: 200, body: latest.get(created[i].id) }),
      );
    }

    // Then, in turn: an update through one process is what the other one retrieves right after.
    for (let i = 0; i < 10; i++) {
      for (const [writer, reader] of [samples(), [...samples()].reverse()]) {
        const updated = await call<LostReasonObject>(writer, 'PATCH', `/${created[i].id}`, { lost_reason: `then via ${writer.name}` });
        expect(updated.status).toBe(200);
        expect(updated.body.updated_at > latest.get(created[i].id)!.updated_at).toBe(true);
        latest.set(created[i].id, updated.body);
        expect(await call(reader, 'GET', `/${created[i].id}`)).toEqual({ status: 200, body: updated.body });
      }
    }
  });

  it('of concurrent DELETEs of one object from both processes, exactly one succeeds; the rest are 404', async () => {
    const deletes: Array<{ id: string; sample: Sample }> = [];
    for (let i = DELETED.from; i < DELETED.to; i++) {
      for (let k = 0; k < 2 * DELETES_PER_PROCESS; k++) deletes.push({ id: created[i].id, sample: via(k + i) });
    }
    // Recorded first, so the next test still checks the list if this one fails.
    for (let i = DELETED.from; i < DELETED.to; i++) {
      deleted.add(created[i].id);
      latest.delete(created[i].id);
    }
    const replies = await Promise.all(deletes.map(({ id, sample }) => call<unknown>(sample, 'DELETE', `/${id}`)));
    const successes = new Map<string, number>();
    replies.forEach(({ status, body }, n) => {
      const { id } = deletes[n];
      if (status === 200) {
        expect(body).toEqual({ id, deleted: true });
        successes.set(id, (successes.get(id) ?? 0) + 1);
      } else {
        expect({ n, status, body }).toMatchObject({
          n,
          status: 404,
          body: { error: { type: 'invalid_request_error', code: 'resource_missing' } },
        });
      }
    });
    for (let i = DELETED.from; i < DELETED.to; i++) {
      expect({ i, successes: successes.get(created[i].id) }).toEqual({ i, successes: 1 });
    }
    // Gone for both processes.
    for (const sample of samples()) {
      const gone = await Promise.all([...deleted].map((id) => call(sample, 'GET', `/${id}`)));
      gone.forEach((reply) => expect(reply.status).toBe(404));
    }
  });

  it('both processes report the same exact total and list one consistent order, newest first', async () => {
    const survivors = created.filter((object) => !deleted.has(object.id));
    expect(survivors.length).toBe(CREATES - (DELETED.to - DELETED.from));

    const firstPages = await Promise.all(samples().map((sample) => call<LostReasonList>(sample, 'GET', '?limit=1')));
    for (const page of firstPages) expect(page.body.total).toBe(survivors.length);

    const [walkA, walkB] = [await walk(a!), await walk(b!)];
    expect(walkA.totals.every((total) => total === survivors.length)).toBe(true);
    expect(walkB.totals.every((total) => total === survivors.length)).toBe(true);
    // Same objects, same order, through either process.
    expect(walkB.objects).toEqual(walkA.objects);

    // Every surviving id exactly once, and nothing else.
    expect(walkA.ids).toHaveLength(survivors.length);
    expect(new Set(walkA.ids).size).toBe(walkA.ids.length);
    expect([...walkA.ids].sort()).toEqual(survivors.map((object) => object.id).sort());

    // Newest first: created_at never increases down the list.
    for (let n = 1; n < walkA.objects.length; n++) {
      expect({ n, inOrder: walkA.objects[n - 1].created_at >= walkA.objects[n].created_at }).toEqual({ n, inOrder: true });
    }
    // The same order the database itself gives (created_at, then insertion order).
    const rows: Array<{ id: string }> = await dataSource!.query(
      'SELECT id FROM opportunity_lost_reason ORDER BY created_at DESC, seq DESC',
    );
    expect(walkA.ids).toEqual(rows.map((row) => row.id));

    // Listed objects are their latest state; updated ones have updated_at > created_at.
    for (const object of walkA.objects) {
      expect(object).toEqual(latest.get(object.id));
      const wasPatched = created.findIndex((c) => c.id === object.id) < PATCHED;
      if (wasPatched) expect(object.updated_at > object.created_at).toBe(true);
      else expect(object.updated_at).toBe(object.created_at);
    }
  });

  it('creates exactly one object per Idempotency-Key sent in parallel to both processes', async () => {
    const KEYS = 20;
    const PER_PROCESS = 5;
    const run = `${Date.now()}`;
    const keys = Array.from({ length: KEYS }, (_, k) => `instances-${run}-${k}`);
    const sends = keys.flatMap((key, k) => Array.from({ length: 2 * PER_PROCESS }, (_, j) => ({ key, k, sample: via(j) })));
    const replies = await Promise.all(
      sends.map(({ key, k, sample }) =>
        postWithKey<LostReasonObject & { error?: { type: string; code?: string } }>(sample, key, { lost_reason: `keyed ${run} ${k}` }),
      ),
    );
    for (const [k, key] of keys.entries()) {
      const mine = replies.filter((_, n) => sends[n].key === key);
      const created = mine.filter((reply) => reply.status === 201 && reply.replayed === null);
      expect({ key, created: created.length }).toEqual({ key, created: 1 });
      for (const reply of mine) {
        if (reply.status === 201) expect(reply.body).toEqual(created[0].body);
        else
          expect({ key, status: reply.status, error: reply.body.error }).toMatchObject({
            key,
            status: 409,
            error: { type: 'idempotency_error', code: 'idempotency_key_in_use' },
          });
      }
      // Afterwards, either process replays the one answer.
      for (const sample of samples()) {
        const retry = await postWithKey<LostReasonObject>(sample, key, { lost_reason: `keyed ${run} ${k}` });
        expect({ via: sample.name, status: retry.status, replayed: retry.replayed, body: retry.body }).toEqual({
          via: sample.name,
          status: 201,
          replayed: 'true',
          body: created[0].body,
        });
      }
    }
    const rows: Array<{ lost_reason: string; n: number }> = await dataSource!.query(
      'SELECT lost_reason, COUNT(*)::int AS n FROM opportunity_lost_reason WHERE lost_reason LIKE $1 GROUP BY lost_reason',
      [`keyed ${run} %`],
    );
    expect(rows).toHaveLength(KEYS);
    expect(rows.every((row) => row.n === 1)).toBe(true);
  });

  it('no process logged an error', () => {
    for (const sample of samples())
      expect({ sample: sample.name, errors: sample.output().match(/.*ERROR.*/g) ?? [] }).toEqual({ sample: sample.name, errors: [] });
  });
});
