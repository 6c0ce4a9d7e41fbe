/** A request waiting for its turn; `expired` once its deadline has passed (it is then skipped). */
export interface Turn {
  expired: boolean;
}

interface Waiting {
  turn: Turn;
  start: () => void;
}

/**
 * Runs at most `capacity` requests at once; the others wait, and tenants take turns: each
 * freed place goes to the tenant that has waited longest since its last turn, one request at a
 * time. The pool's own queue is first come, first served, so 400 lists of one tenant would sit
 * in front of another tenant's single retrieve; here that retrieve waits for one freed place.
 *
 * A finished request frees its place only at the end of the event loop's turn (`setImmediate`),
 * after the loop has read its sockets: on SQLite, whose statements run on the event loop, a
 * request finishes before the next one is even parsed, so freeing at once would let every
 * request of a burst read from one batch of sockets run ahead of another tenant's, read in the
 * next.
 */
export class TenantTurns {
  private running = 0;
  /** Requests finished whose places are freed at the end of this turn of the event loop. */
  private finished = 0;
  private freeing = false;
  /** Tenants with waiting requests, in turn order: a tenant served goes to the back. */
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(readonly capacity: number) {}

  /** `work()` now, or at `tenant`'s turn; never, if `turn` expires first. */
  run<T>(tenant: string, turn: Turn, work: () => Promise<T>): Promise<T> {
    if (this.running < this.capacity && this.waiting.size === 0) return this.start(work);
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting = { turn, start: () => this.start(work).then(resolve, reject) };
      const queue = this.waiting.get(tenant);
      if (queue) queue.push(waiting);
      else this.waiting.set(tenant, [waiting]);
    });
  }

  private start<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    let done: Promise<T>;
    try {
      done = work();
    } catch (error) {
      done = Promise.reject(error);
    }
    done.then(this.finish, this.finish);
    return done;
  }

  private readonly finish = (): void => {
    this.finished++;
    if (this.freeing) return;
    this.freeing = true;
    setImmediate(this.free);
  };

  private readonly free = (): void => {
    this.freeing = false;
    this.running -= this.finished;
    this.finished = 0;
    while (this.running < this.capacity) {
      const next = this.waiting.entries().next();
      if (next.done) return;
      const [tenant, queue] = next.value;
      const waiting = queue.shift() as Waiting;
      this.waiting.delete(tenant);
      if (queue.length > 0) this.waiting.set(tenant, queue);
      if (!waiting.turn.expired) waiting.start();
    }
  };
}
