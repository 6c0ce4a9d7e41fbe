import { TimeoutError } from 'rxjs';

/** Node's longest timer delay; a longer one would fire at once. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** How late a timer may be (a busy event loop) before it counts as lost and another is set. */
const LOST_TIMER_MS = 1000;

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
  /** When the timer is due: a timer long overdue was lost (a test's fake clock, uninstalled under it). */
  private timerDue = 0;

  constructor(private readonly ms: number) {}

  add(onExpired: () => void): Deadline {
    const now = performance.now();
    const deadline: Deadline = { at: now + this.ms, onExpired, previous: this.newest };
    if (this.newest) this.newest.next = deadline;
    else this.oldest = deadline;
    this.newest = deadline;
    if (!this.timer || now > this.timerDue + LOST_TIMER_MS) this.arm(now, this.ms);
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

  private arm(now: number, delay: number): void {
    clearTimeout(this.timer);
    this.timerDue = now + delay;
    // Unreferenced: a timer left set for cancelled deadlines must not keep the process alive.
    this.timer = setTimeout(() => this.expire(), Math.min(delay, LONGEST_TIMER_MS)).unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    const expired: Deadline[] = [];
    for (let oldest = this.oldest; oldest && oldest.at <= now; oldest = this.oldest) {
      this.cancel(oldest);
      expired.push(oldest);
    }
    if (this.oldest) this.arm(now, this.oldest.at - now);
    for (const { onExpired } of expired) onExpired();
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
    // Never throws into the queue: an `onExpired` that fails is this call's answer instead.
    const deadline = current.add(() => {
      try {
        onExpired?.();
        reject(new TimeoutError());
      } catch (error) {
        reject(error);
      }
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
