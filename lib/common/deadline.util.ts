import { TimeoutError } from 'rxjs';
import { performance } from 'node:perf_hooks';

/** Node's longest timer delay; a longer one would fire at once. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** A pending deadline, linked to its neighbours in its queue so that cancelling it is O(1). */
interface Deadline {
  at: number;
  onExpired: () => void;
  previous?: Deadline;
  next?: Deadline;
}

/**
 * Pending deadlines of one length, in the order they were set, which is also the order they
 * expire in. One timer for the whole queue, set for its oldest entry, instead of a timer per
 * deadline: every request sets two (its own and its statement's) and almost all are cancelled,
 * and Node's timers (an object and an async resource each, a libuv timer per list) cost the
 * module's hot path more than its statement did (callgrind, module on Fastify + SQLite).
 */
class DeadlineQueue {
  private oldest?: Deadline;
  private newest?: Deadline;
  private timer?: NodeJS.Timeout;

  constructor(private readonly ms: number) {}

  add(onExpired: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + this.ms, onExpired, previous: this.newest };
    if (this.newest) this.newest.next = deadline;
    else this.oldest = deadline;
    this.newest = deadline;
    if (!this.timer) this.arm(this.ms);
    return deadline;
  }

  /** Takes a deadline out of the queue; the timer, set for it perhaps, finds the next one when it fires. */
  cancel(deadline: Deadline): void {
    if (deadline.previous) deadline.previous.next = deadline.next;
    else if (this.oldest === deadline) this.oldest = deadline.next;
    else return; // expired or cancelled already
    if (deadline.next) deadline.next.previous = deadline.previous;
    else this.newest = deadline.previous;
    deadline.previous = deadline.next = undefined;
  }

  private arm(delay: number): void {
    // Unreferenced: a timer left set for cancelled deadlines must not keep the process alive.
    this.timer = setTimeout(() => this.expire(), Math.min(delay, LONGEST_TIMER_MS)).unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (let oldest = this.oldest; oldest && oldest.at <= now; oldest = this.oldest) {
      this.cancel(oldest);
      oldest.onExpired();
    }
    if (this.oldest) this.arm(this.oldest.at - now);
  }
}

const queues = new Map<number, DeadlineQueue>();

/**
 * `work`'s result, or rxjs's `TimeoutError` once `ms` have passed (the module's exception
 * filter answers it as a 503 `api_error`), so a stuck statement, an unreachable database or a
 * host callback that hangs never holds a request forever. The work itself is not cancelled: a
 * statement may still complete on the database (a write is one statement or one transaction,
 * so it happens entirely or not at all). `onExpired` runs when the deadline passes.
 */
export function withinDeadline<T>(work: T | Promise<T>, ms: number, onExpired?: () => void): Promise<T> {
  let queue = queues.get(ms);
  if (!queue) queues.set(ms, (queue = new DeadlineQueue(ms)));
  const current = queue;
  return new Promise<T>((resolve, reject) => {
    const deadline = current.add(() => {
      onExpired?.();
      reject(new TimeoutError());
    });
    const settle = () => current.cancel(deadline);
    Promise.resolve(work).then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}
