import request from 'supertest';
import { DataSource, EntitySubscriberInterface, InsertEvent, QueryFailedError } from 'typeorm';
import { LostReason, LostReasonIdempotencyKey } from '../lib';
import { AdapterName, testedAdapters } from './support/adapters';
import { DatabaseName, describeEach, testedDatabases } from './support/databases';
import { eventually } from './support/eventually';
import { auth, createHostApp, RESOURCE } from './support/host-app';

/**
 * An `Idempotency-Key` whose claim committed while its answer was lost (the connection cut right
 * after the INSERT): the request answers 503, and a retry of it is served as soon as the database
 * answers again (on the same instance at once, on another once the claim is given back), never
 * held as "in use" until the claim's lock times out.
 */

/** Once armed, makes the next claim of an idempotency key fail as a connection lost after its INSERT committed. */
class ClaimAnswerLoser implements EntitySubscriberInterface<LostReasonIdempotencyKey> {
  private armed = false;
  lost = 0;

  constructor(private readonly db: DatabaseName) {}

  listenTo() {
    return LostReasonIdempotencyKey;
  }

  arm(): void {
    this.armed = true;
  }

  afterInsert(_event: InsertEvent<LostReasonIdempotencyKey>): void {
    if (!this.armed) return;
    this.armed = false;
    this.lost++;
    const driverError =
      this.db === 'postgres'
        ? new Error('Connection terminated unexpectedly')
        : Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' });
    throw new QueryFailedError('INSERT INTO "opportunity_lost_reason_idempotency" …', [], driverError);
  }
}

const cases = testedDatabases()
  .filter((db) => db !== 'sqlite') // embedded: no connection to lose
  .flatMap((db) => testedAdapters().map((adapter) => [db, adapter] as const));

describeEach(cases)('an Idempotency-Key whose claim committed but whose answer was lost', ([db, adapter]) => {
  const otherAdapter: AdapterName = adapter === 'express' ? 'fastify' : 'express';

  it('answers 503, then serves a retry at once on the same instance and, once given back, on another', async () => {
    const first = await createHostApp({ db, adapter });
    const second = await createHostApp({ db, adapter: otherAdapter, keepRows: true });
    try {
      const loser = new ClaimAnswerLoser(db);
      first.get(DataSource).subscribers.push(loser);
      const post = (app: typeof first, key: string) =>
        request(app.getHttpServer()).post(RESOURCE).set(auth).set('Idempotency-Key', key).send({ lost_reason: key });
      const objectsOf = (key: string) => first.get(DataSource).getRepository(LostReason).countBy({ lost_reason: key });

      for (const retryOn of ['the same instance', 'another instance'] as const) {
        const key = `lost-answer-${db}-${adapter}-${retryOn.length}-${Date.now()}`;
        loser.arm();
        const failed = await post(first, key);
        expect({ status: failed.status, retryAfter: failed.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '1' });
        expect(loser.lost).toBe(retryOn === 'the same instance' ? 1 : 2);
        if (retryOn === 'the same instance') {
          expect((await post(first, key)).status).toBe(201);
        } else {
          // Given back in the background (every second while the database fails): far sooner than the claim's lock times out.
          await eventually(async () => (await post(second, key)).status === 201, 5_000);
        }
        expect(await objectsOf(key)).toBe(1);
        const replay = await post(first, key).expect(201);
        expect(replay.headers['idempotent-replayed']).toBe('true');
      }
    } finally {
      await first.close();
      await second.close();
    }
  });
});
