/** A request waiting for its turn: skipped once its deadline has passed, or its client has gone. */
export interface Turn {
  expired: boolean;
  socket?: { destroyed?: boolean };
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
 * next. The places are freed only once a request has to wait for one: one timer per `capacity`
 * requests when nobody waits, not one per request.
 */
export class TenantTurns {
  /** Requests started and not finished. */
  private running = 0;
  /** Requests finished whose places are not freed yet (at the end of a turn of the event loop). */
  private finished = 0;
  private freeing = false;
  /** Tenants with waiting requests, in turn order. */
  private readonly waiting = new Map<string, Waiting[]>();
  /** Tenants served at the last freeing, with requests still waiting: they go behind the tenants that arrived since. */
  private readonly served = new Map<string, Waiting[]>();

  constructor(readonly capacity: number) {}

  /** `work()` now, or at `tenant`'s turn; never, if `turn` expires or its client goes first. */
  run<T>(tenant: string, turn: Turn, work: () => Promise<T>): Promise<T> {
    if (this.running + this.finished < this.capacity && this.waiting.size === 0 && this.served.size === 0) return this.start(work);
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting = { turn, start: () => this.start(work).then(resolve, reject) };
      const queue = this.waiting.get(tenant) ?? this.served.get(tenant);
      if (queue) queue.push(waiting);
      else this.waiting.set(tenant, [waiting]);
      this.freeSoon();
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
    this.running--;
    this.finished++;
    if (this.waiting.size > 0 || this.served.size > 0) this.freeSoon();
  };

  /** Frees the finished requests' places at the end of this turn of the event loop. */
  private freeSoon(): void {
    if (this.freeing || this.finished === 0) return;
    this.freeing = true;
    setImmediate(this.free);
  }

  private readonly free = (): void => {
    this.freeing = false;
    this.finished = 0;
    this.moveServedBack();
    while (this.running < this.capacity) {
      if (this.waiting.size === 0) {
        if (this.served.size === 0) return;
        this.moveServedBack();
      }
      const [tenant, queue] = this.waiting.entries().next().value as [string, Waiting[]];
      const waiting = queue.shift() as Waiting;
      this.waiting.delete(tenant);
      if (queue.length > 0) this.served.set(tenant, queue);
      if (!waiting.turn.expired && !waiting.turn.socket?.destroyed) waiting.start();
    }
  };

  private moveServedBack(): void {
    for (const [tenant, queue] of this.served) this.waiting.set(tenant, queue);
    this.served.clear();
  }
}
