import { TenantTurns, Turn } from './tenant-turns';

/** A request whose work the test finishes by hand; `started` says whether its work ran. */
function request(turns: TenantTurns, tenant: string, turn: Turn = { expired: false }) {
  let finish!: () => void;
  const entry = { tenant, started: false, done: undefined as unknown as Promise<string>, finish: () => finish() };
  entry.done = turns.run(tenant, turn, () => {
    entry.started = true;
    return new Promise<string>((resolve) => (finish = () => resolve(tenant)));
  });
  return entry;
}

/** One turn of the event loop: places freed by finished requests go to the next ones. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('TenantTurns', () => {
  it('runs requests at once while fewer than its capacity run', () => {
    const turns = new TenantTurns(2);
    const [a, b, c] = [request(turns, 'acme'), request(turns, 'acme'), request(turns, 'globex')];
    expect([a.started, b.started, c.started]).toEqual([true, true, false]);
  });

  it('gives a freed place to the tenant that has waited longest since its last turn, one request at a time', async () => {
    const turns = new TenantTurns(1);
    const running = request(turns, 'acme');
    const acme = [request(turns, 'acme'), request(turns, 'acme'), request(turns, 'acme')];
    const globex = request(turns, 'globex');
    const order: string[] = [];
    const all = [running, ...acme, globex];
    for (let step = 0; step < 4; step++) {
      const current = all.find((entry) => entry.started && !order.includes(String(all.indexOf(entry))));
      order.push(String(all.indexOf(current!)));
      current!.finish();
      await current!.done;
      await nextTurn();
    }
    // acme's first waiting request, then globex's, then acme's others.
    expect(order).toEqual(['0', '1', '4', '2']);
  });

  it(`serves a tenant that arrives while another is served before that other tenant's next request`, async () => {
    const turns = new TenantTurns(1);
    const first = request(turns, 'acme');
    const [second, third] = [request(turns, 'acme'), request(turns, 'acme')];
    first.finish();
    await first.done;
    await nextTurn();
    expect(second.started).toBe(true);
    const globex = request(turns, 'globex');
    second.finish();
    await second.done;
    await nextTurn();
    expect([globex.started, third.started]).toEqual([true, false]);
  });

  it('frees a place only after the event loop has had its turn, not as soon as work settles', async () => {
    const turns = new TenantTurns(1);
    const first = request(turns, 'acme');
    first.finish();
    await first.done;
    const second = request(turns, 'globex');
    expect(second.started).toBe(false);
    await nextTurn();
    expect(second.started).toBe(true);
  });

  it.each([
    ['its deadline passed', { expired: true }],
    ['its client went away', { expired: false, socket: { destroyed: true } }],
  ])('never starts a request whose %s while it waited', async (_why, turn) => {
    const turns = new TenantTurns(1);
    const first = request(turns, 'acme');
    const skipped = request(turns, 'acme', turn);
    const next = request(turns, 'globex');
    first.finish();
    await first.done;
    await nextTurn();
    expect([skipped.started, next.started]).toEqual([false, true]);
  });

  it('frees the place of a request whose work throws', async () => {
    const turns = new TenantTurns(1);
    await expect(
      turns.run('acme', { expired: false }, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const next = request(turns, 'acme');
    await nextTurn();
    expect(next.started).toBe(true);
  });

  it('frees places only once a request waits for one: requests that find a place run at once', async () => {
    const turns = new TenantTurns(2);
    for (const entry of [request(turns, 'acme'), request(turns, 'globex')]) {
      expect(entry.started).toBe(true);
      entry.finish();
      await entry.done;
    }
    const third = request(turns, 'acme');
    expect(third.started).toBe(false);
    await nextTurn();
    expect(third.started).toBe(true);
  });
});
