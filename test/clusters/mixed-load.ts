import { expect } from '@jest/globals';
import { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request, { Response, Test } from 'supertest';
import { API_KEY, RESOURCE } from '../support/host-app';

/** A second tenant's key: its objects are only created, and walked page by page with cursors. */
export const WALK_KEY = 'sk_test_clusters_walks_9fK2pQ7rLm4xV8sT';
/** The keys of the two tenants the cluster apps serve. */
export const CLUSTER_API_KEYS = { [API_KEY]: 'crm', [WALK_KEY]: 'walks' };

/** SQL on one database server of the cluster (a Galera node, the primary, the standby). */
export type ServerQuery = (sql: string) => Promise<Record<string, unknown>[]>;

/** How long one logical operation may take in all, retries included, before it counts as hung. */
const OPERATION_DEADLINE_MS = 45_000;
/** How long one HTTP request may take before it counts as hung. */
const REQUEST_TIMEOUT_MS = 15_000;
const WALK_PAGE = 7;

type LostReasonObject = { id: string; created_at: string; updated_at: string; lost_reason: string };
/** What a client was told last of an object: what every server must hold at the end. */
type Acknowledged = { lostReason: string; updatedAt: string; deleted: boolean };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A bounded mixed load on several app instances of one cluster, as clients that retry do: a 503 is
 * tried again through the next app (with the same Idempotency-Key for a create), a 409
 * `idempotency_key_in_use` a little later. Each worker runs cross-node sequences in turn:
 *
 * - create through one app, read, update and delete through others, read the delete through a third;
 * - one create sent with one Idempotency-Key through two apps at once;
 * - parallel updates of one object through every app.
 *
 * Meanwhile, on a second tenant, objects are created and walked with cursors, each page through the
 * next app. `verify` then checks every server against what clients were told.
 */
export class MixedLoad {
  /** Answers by operation and status, e.g. `update 200`, `create 503`; `retrieve behind`: a lagging read, tried again. */
  readonly answers = new Map<string, number>();
  /** What a careful client would call a bug: an unexpected status, a 500, a hang, a lost or doubled write, a bad page. */
  readonly failures: string[] = [];
  private readonly acknowledged = new Map<string, Acknowledged>();
  private readonly idempotencyKeys = new Set<string>();
  /** The walk tenant's acknowledged objects, with when they were acknowledged. */
  private readonly walkObjects = new Map<string, number>();
  private walks = 0;
  private running: Promise<void>[] = [];
  private stopping = false;

  /**
   * `readsLag`: reads may go to a server that applies writes after acknowledging them (a
   * PostgreSQL standby): a read right after a write is then tried again until it catches up, and
   * a walk only has to find objects acknowledged `readsLag` ms before it began.
   */
  constructor(
    private readonly apps: INestApplication[],
    private readonly readsLag = 0,
  ) {}

  start(workers = 6): void {
    this.running = [...Array.from({ length: workers }, (_, worker) => this.work(worker)), this.createWalkObjects(), this.walk()];
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** How many sequences and walks ran (a load that did nothing proves nothing). */
  get done(): { objects: number; keys: number; walks: number } {
    return { objects: this.acknowledged.size, keys: this.idempotencyKeys.size, walks: this.walks };
  }

  /**
   * Every server against what clients were told: each acknowledged object present through every
   * app with its last acknowledged value (and an `updated_at` no earlier), each delete still
   * deleted, one object per Idempotency-Key, and on every server a row count equal to the tenants'
   * totals. Failures are added to `failures`.
   */
  async verify(servers: ServerQuery[]): Promise<void> {
    for (const [i] of this.apps.entries()) {
      for (const [id, expected] of this.acknowledged) {
        const served = await this.caughtUp(i, `${RESOURCE}/${id}`, (body) =>
          expected.deleted ? body === undefined : body?.lost_reason === expected.lostReason && body.updated_at >= expected.updatedAt,
        );
        if (!served) this.fail(`app ${i}: ${id} should be ${JSON.stringify(expected)}`);
      }
    }
    const reasons = [...this.idempotencyKeys].map((key) => `'same key ${key}'`).join(', ');
    for (const [s, query] of servers.entries()) {
      await this.settled(`server ${s}: one object per Idempotency-Key`, async () => {
        const rows = await query(`SELECT COUNT(*) AS n FROM opportunity_lost_reason WHERE lost_reason IN (${reasons})`);
        return Number(rows[0].n) === this.idempotencyKeys.size;
      });
      await this.settled(`server ${s}: totals equal COUNT(*)`, async () => {
        const [{ n }] = await query('SELECT COUNT(*) AS n FROM opportunity_lost_reason');
        const totals = await Promise.all(
          [API_KEY, WALK_KEY].map(async (key) => (await this.api(s % this.apps.length, 'get', RESOURCE, key)).body.total as number),
        );
        return Number(n) === totals[0] + totals[1];
      });
    }
  }

  /** Prints what ran, and fails the test on any failure or 5xx other than a retryable 503. */
  expectHeld(): void {
    console.log(this.done, Object.fromEntries(this.answers));
    expect(this.failures).toEqual([]);
    expect([...this.answers.keys()].filter((answer) => / 5\d\d$/.test(answer) && !answer.endsWith(' 503'))).toEqual([]);
    expect(this.done.walks).toBeGreaterThan(0);
    expect(this.done.keys).toBeGreaterThan(0);
  }

  /** One worker: the three sequences in turn until `stop`. */
  private async work(worker: number): Promise<void> {
    const sequences = [
      (n: number) => this.createReadUpdateDelete(n),
      (n: number) => this.sameKeyThroughTwoApps(n),
      (n: number) => this.parallelUpdates(n),
    ];
    for (let n = worker; !this.stopping; n++) {
      await sequences[n % sequences.length](n).catch((error: Error) => this.fail(error.message));
    }
  }

  private async createReadUpdateDelete(n: number): Promise<void> {
    const [a, b, c] = this.appsFrom(n);
    const created = await this.create(a, `sequence ${n}`, randomUUID());
    let last = created.updated_at;
    const read = await this.retrieve(b, created.id, last);
    if (read.updated_at < last) this.fail(`${created.id}: updated_at went back from ${last} to ${read.updated_at}`);
    const updated = (await this.send('update', c, 'patch', `${RESOURCE}/${created.id}`, { body: { lost_reason: `updated ${n}` } })).body;
    if (!(updated.updated_at > last)) this.fail(`${created.id}: an update left updated_at at ${updated.updated_at} (was ${last})`);
    last = updated.updated_at;
    this.acknowledged.set(created.id, { lostReason: updated.lost_reason, updatedAt: last, deleted: false });
    await this.retrieve(a, created.id, last);
    if (n % 2) return;
    await this.send('delete', b, 'delete', `${RESOURCE}/${created.id}`, { alsoOnRetry: [404] });
    this.acknowledged.set(created.id, { lostReason: updated.lost_reason, updatedAt: last, deleted: true });
    const gone = await this.caughtUp(c, `${RESOURCE}/${created.id}`, (body) => body === undefined);
    if (!gone) this.fail(`${created.id}: still served after its delete`);
  }

  private async sameKeyThroughTwoApps(n: number): Promise<void> {
    const [a, b] = this.appsFrom(n);
    const key = randomUUID();
    const reason = `same key ${key}`;
    const [first, second] = await Promise.all([this.create(a, reason, key), this.create(b, reason, key)]);
    if (first.id !== second.id) this.fail(`Idempotency-Key ${key}: two objects, ${first.id} and ${second.id}`);
    this.idempotencyKeys.add(key);
  }

  private async parallelUpdates(n: number): Promise<void> {
    const created = await this.create(n % this.apps.length, `contended ${n}`, randomUUID());
    const updates = await Promise.all(
      [...this.apps.keys(), ...this.apps.keys()].map(
        async (i, k) =>
          (await this.send('update', i, 'patch', `${RESOURCE}/${created.id}`, { body: { lost_reason: `contended ${n}.${k}` } }))
            .body as LostReasonObject,
      ),
    );
    const times = updates.map((update) => update.updated_at).sort();
    if (new Set(times).size !== times.length) this.fail(`${created.id}: parallel updates shared an updated_at: ${times}`);
    if (times[0] <= created.updated_at) this.fail(`${created.id}: an update did not move updated_at past the create's`);
    const last = updates.find((update) => update.updated_at === times[times.length - 1]) as LostReasonObject;
    this.acknowledged.set(created.id, { lostReason: last.lost_reason, updatedAt: last.updated_at, deleted: false });
  }

  private async createWalkObjects(): Promise<void> {
    for (let n = 0; !this.stopping; n++) {
      const answer = await this.send('create', n % this.apps.length, 'post', RESOURCE, {
        key: WALK_KEY,
        body: { lost_reason: `walk ${n}` },
        idempotencyKey: randomUUID(),
      }).catch((error: Error) => this.fail(error.message));
      if (answer) this.walkObjects.set(answer.body.id, Date.now());
      await sleep(20);
    }
  }

  /**
   * Walks the walk tenant's list with `starting_after`, each page through the next app, and
   * checks it: newest first, no object twice, none acknowledged before the walk began missing.
   */
  private async walk(): Promise<void> {
    while (!this.stopping) {
      const began = Date.now();
      const expected = [...this.walkObjects].filter(([, at]) => at < began - this.readsLag).map(([id]) => id);
      const seen = new Set<string>();
      let previous: LostReasonObject | undefined;
      for (let page = 0; ; page++) {
        const query = `?limit=${WALK_PAGE}${previous ? `&starting_after=${previous.id}` : ''}`;
        const { body } = await this.send('list', page % this.apps.length, 'get', RESOURCE + query, { key: WALK_KEY });
        for (const object of body.data as LostReasonObject[]) {
          if (seen.has(object.id)) this.fail(`walk: ${object.id} twice`);
          if (previous && object.created_at > previous.created_at) this.fail(`walk: ${object.id} out of order`);
          seen.add(object.id);
          previous = object;
        }
        if (!body.has_more) break;
      }
      const missing = expected.filter((id) => !seen.has(id));
      if (missing.length) this.fail(`walk: ${missing.length} objects skipped, e.g. ${missing[0]}`);
      this.walks++;
    }
  }

  /** A create, retried with the same key until it is acknowledged. */
  private async create(i: number, lostReason: string, idempotencyKey: string): Promise<LostReasonObject> {
    const { body } = await this.send('create', i, 'post', RESOURCE, { body: { lost_reason: lostReason }, idempotencyKey });
    this.acknowledged.set(body.id, { lostReason, updatedAt: body.updated_at, deleted: false });
    return body;
  }

  /** The object through app `i`, as of `updatedAt` or later (a lagging reader is given time when `readsLag`). */
  private async retrieve(i: number, id: string, updatedAt: string): Promise<LostReasonObject> {
    const served = await this.caughtUp(i, `${RESOURCE}/${id}`, (body) => body !== undefined && body.updated_at >= updatedAt);
    if (!served?.body) throw new Error(`${id}: app ${i} did not serve it as of ${updatedAt}`);
    return served.body;
  }

  /**
   * What app `i` serves at `path` once `ready` holds of it (`body` undefined for a 404): at once on
   * a cluster with causal reads, or within a few seconds when reads lag. `undefined` if never.
   */
  private async caughtUp(
    i: number,
    path: string,
    ready: (body: LostReasonObject | undefined) => boolean,
  ): Promise<{ body?: LostReasonObject } | undefined> {
    const deadline = Date.now() + (this.readsLag ? 10_000 : 0);
    for (;;) {
      const answer = await this.send('retrieve', i, 'get', path, { also: [404] });
      const body = answer.status === 404 ? undefined : (answer.body as LostReasonObject);
      if (ready(body)) return { body };
      if (Date.now() >= deadline) return undefined;
      this.tally('retrieve', 'behind');
      await sleep(50);
    }
  }

  /** Polls `condition` (server state after the load) for a few seconds; a failure if it never holds. */
  private async settled(what: string, condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await condition())) {
      if (Date.now() > deadline) return this.fail(what);
      await sleep(200);
    }
  }

  /**
   * One request, retried as a careful client does until it gets a final answer: a 503 (which must
   * carry Retry-After) through the next app, a 409 `idempotency_key_in_use` later. 2xx is final,
   * and so are the statuses in `also` (on any attempt) and `alsoOnRetry` (once an earlier attempt
   * may have done the write). Anything else is a failure.
   */
  private async send(
    operation: string,
    first: number,
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    options: { key?: string; body?: object; idempotencyKey?: string; also?: number[]; alsoOnRetry?: number[] } = {},
  ): Promise<Response> {
    const deadline = Date.now() + OPERATION_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      const i = (first + attempt) % this.apps.length;
      const answer = await this.api(i, method, path, options.key, options.body, options.idempotencyKey);
      this.tally(operation, answer.status);
      const final =
        answer.status < 300 || options.also?.includes(answer.status) || (attempt > 0 && options.alsoOnRetry?.includes(answer.status));
      if (final) return answer;
      const retryable =
        (answer.status === 503 && answer.headers['retry-after'] !== undefined) ||
        (answer.status === 409 && answer.body?.error?.code === 'idempotency_key_in_use');
      if (!retryable)
        throw new Error(`${operation} ${method.toUpperCase()} ${path} through app ${i}: ${answer.status} ${JSON.stringify(answer.body)}`);
      if (Date.now() > deadline)
        throw new Error(`${operation} ${path}: still ${answer.status} after ${OPERATION_DEADLINE_MS} ms of retries`);
      await sleep(50 + Math.random() * 100);
    }
  }

  private async api(
    i: number,
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    key = API_KEY,
    body?: object,
    idempotencyKey?: string,
  ) {
    let call: Test = request(this.apps[i].getHttpServer())[method](path).set('Authorization', `Bearer ${key}`);
    if (idempotencyKey) call = call.set('Idempotency-Key', idempotencyKey);
    if (body) call = call.send(body);
    try {
      return await call.timeout(REQUEST_TIMEOUT_MS);
    } catch (error) {
      throw new Error(`${method.toUpperCase()} ${path} through app ${i}: no answer (${(error as Error).message})`);
    }
  }

  /** Three apps from `n` on: the sequences' first, second and third (some twice on fewer apps). */
  private appsFrom(n: number): number[] {
    return [0, 1, 2].map((k) => (n + k) % this.apps.length);
  }

  private tally(operation: string, outcome: number | string): void {
    const name = `${operation} ${outcome}`;
    this.answers.set(name, (this.answers.get(name) ?? 0) + 1);
  }

  private fail(failure: string): void {
    this.failures.push(failure);
  }
}
