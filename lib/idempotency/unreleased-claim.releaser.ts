import { RELEASE_RETRY_MS } from './idempotency.constants';

/**
 * Claims of failed requests that could not be deleted (the database was failing too), by key
 * id: the time of the claim. Deleted again in the background, every second, until the database
 * answers; a retry of the same key takes its claim over at once, so the key is free as soon as
 * the database is back.
 */
export class UnreleasedClaimReleaser {
  private readonly claims = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private releasing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly deleteClaim: (id: string, claimedAt: string) => Promise<void>,
    /** Stale claims are taken over by anyone anyway: they are forgotten, so the map stays bounded. */
    private readonly isStale: (claimedAt: string) => boolean,
  ) {}

  /** Remembers a claim to delete, and schedules the next round. */
  add(id: string, claimedAt: string): void {
    this.claims.set(id, claimedAt);
    this.retrySoon();
  }

  /** Whether the claim of key `id` made at `claimedAt` is one this process failed to release. */
  has(id: string, claimedAt: string): boolean {
    return this.claims.get(id) === claimedAt;
  }

  /** Forgets a claim, unless a later failed request of the same key replaced it. */
  forget(id: string, claimedAt: string): void {
    if (this.has(id, claimedAt)) this.claims.delete(id);
  }

  /** Stops the retries, and waits for a running round (before the host closes the connection). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.releasing;
  }

  private retrySoon(): void {
    if (this.timer || this.releasing || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.releasing = this.retry().finally(() => {
        this.releasing = undefined;
        if (this.claims.size > 0) this.retrySoon();
      });
    }, RELEASE_RETRY_MS).unref();
  }

  private async retry(): Promise<void> {
    for (const [id, claimedAt] of this.claims) if (this.isStale(claimedAt)) this.claims.delete(id);
    for (const [id, claimedAt] of this.claims) {
      if (this.stopped) return;
      try {
        await this.deleteClaim(id, claimedAt);
        this.forget(id, claimedAt);
      } catch {
        return; // still failing: next round
      }
    }
  }
}
