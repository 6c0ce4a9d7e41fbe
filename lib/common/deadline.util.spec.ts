import { TimeoutError } from 'rxjs';
import { withinDeadline } from './deadline.util';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const never = new Promise<never>(() => undefined);

describe('withinDeadline', () => {
  it('settles as the work does when it is in time, and never calls onExpired', async () => {
    const onExpired = jest.fn();
    await expect(withinDeadline(Promise.resolve('done'), 30, onExpired)).resolves.toBe('done');
    await expect(withinDeadline(Promise.reject(new Error('failed')), 30, onExpired)).rejects.toThrow('failed');
    await expect(withinDeadline('plain value', 30, onExpired)).resolves.toBe('plain value');
    await sleep(60);
    expect(onExpired).not.toHaveBeenCalled();
  });

  it('rejects with TimeoutError once the time has passed, not before, and calls onExpired once', async () => {
    const onExpired = jest.fn();
    const started = performance.now();
    await expect(withinDeadline(never, 40, onExpired)).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  it('expires each of many deadlines of one length, in order, skipping those whose work settled', async () => {
    const expired: number[] = [];
    const outcomes = Array.from({ length: 50 }, (_, i) => {
      const work = i % 3 === 0 ? sleep(5).then(() => 'in time') : never;
      return withinDeadline(work, 30, () => expired.push(i)).catch((error: unknown) => error);
    });
    const results = await Promise.all(outcomes);
    results.forEach((result, i) => (i % 3 === 0 ? expect(result).toBe('in time') : expect(result).toBeInstanceOf(TimeoutError)));
    expect(expired).toEqual(results.flatMap((_, i) => (i % 3 === 0 ? [] : [i])));
  });

  it('keeps deadlines of different lengths apart: a short one set later expires first', async () => {
    const expired: string[] = [];
    const long = withinDeadline(never, 80, () => expired.push('long')).catch(() => undefined);
    await sleep(5);
    const short = withinDeadline(never, 20, () => expired.push('short')).catch(() => undefined);
    await Promise.all([long, short]);
    expect(expired).toEqual(['short', 'long']);
  });

  it('still expires a deadline set after all earlier ones of its length were cancelled', async () => {
    await withinDeadline(Promise.resolve(1), 25);
    await withinDeadline(Promise.resolve(2), 25);
    await expect(withinDeadline(never, 25)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('answers with the error of an onExpired that throws, and the other deadlines of its length still expire', async () => {
    const failing = withinDeadline(never, 35, () => {
      throw new Error('could not close the socket');
    });
    const next = withinDeadline(never, 35);
    await expect(failing).rejects.toThrow('could not close the socket');
    await expect(next).rejects.toBeInstanceOf(TimeoutError);
  });

  it('sets a new timer when the one it had was lost (a fake clock uninstalled under it)', async () => {
    while (performance.now() < 2000) await sleep(100); // the real clock well past the fake one's start
    jest.useFakeTimers();
    const lost = withinDeadline(never, 45).catch(() => 'lost'); // its timer is the fake clock's
    jest.useRealTimers();
    await expect(withinDeadline(never, 45)).rejects.toBeInstanceOf(TimeoutError);
    await expect(lost).resolves.toBe('lost'); // expired with the next one, by the new timer
  });

  it('waits out a deadline longer than a Node timer can (setTimeout would fire it at once)', async () => {
    const onExpired = jest.fn();
    const outcome = jest.fn();
    withinDeadline(never, 2 ** 31 + 1000, onExpired).then(outcome, outcome);
    await sleep(50);
    expect(onExpired).not.toHaveBeenCalled();
    expect(outcome).not.toHaveBeenCalled();
  });

  it('does not keep the process alive for deadlines whose work settled', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timers();
    await withinDeadline(Promise.resolve('done'), 60_000);
    // The queue's one timer is unreferenced: Node does not count it among what keeps the loop alive.
    expect(timers()).toBe(before);
  });
});
