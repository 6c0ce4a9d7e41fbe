import { Logger } from '@nestjs/common';
import { IDEMPOTENCY_KEY_HEADER, PRUNE_INTERVAL_MS } from './idempotency.constants';

/**
 * Deletes expired keys in the background, at most once a minute per process, started by a claim:
 * never delaying or failing a request.
 */
export class ExpiredKeyPruner {
  /** When this process deletes expired keys next (epoch ms). */
  nextPruneAt = 0;
  private pruning?: Promise<void>;

  constructor(
    private readonly prune: (now: number) => Promise<number>,
    private readonly logger: Logger,
  ) {}

  /** Starts a prune if this process has not pruned for a minute and none is running. */
  pruneSometimes(): void {
    const now = Date.now();
    if (now < this.nextPruneAt || this.pruning) return;
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
    this.pruning = this.prune(now)
      .then(
        () => undefined,
        (error) =>
          this.logger.warn(
            `Could not delete expired ${IDEMPOTENCY_KEY_HEADER}s: ${error instanceof Error ? error.message : String(error)}`,
          ),
      )
      .finally(() => (this.pruning = undefined));
  }

  /** Resolves once the running prune, if any, has finished. */
  async settled(): Promise<void> {
    await this.pruning;
  }
}
