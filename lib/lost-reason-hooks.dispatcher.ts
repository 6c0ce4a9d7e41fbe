import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { EntityManager, EntitySubscriberInterface, QueryRunner, Repository, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { LostReasonHookContext, LostReasonHooks } from './interfaces';
import { LOST_REASON_REPOSITORY, LOST_REASON_RESOLVED_OPTIONS } from './lost-reason.constants';
import { LostReason } from './lost-reason.entity';
import { ResolvedLostReasonOptions } from './lost-reason.options';

type HookName = keyof LostReasonHooks;
type Fire = () => Promise<void>;

/**
 * Calls the host's hooks once a write is committed. A write made on the host's own
 * transaction (`LostReasonService.withManager`) is committed only with that transaction, so
 * its hooks wait for it, through a TypeORM subscriber, and are dropped if it rolls back.
 */
@Injectable()
export class LostReasonHooksDispatcher implements EntitySubscriberInterface, OnModuleInit {
  private readonly logger = new Logger('LostReasonModule');
  /** Hooks of writes made on a host transaction that is still open. */
  private readonly pending = new WeakMap<QueryRunner, Fire[]>();

  constructor(
    @Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions,
    @Inject(LOST_REASON_REPOSITORY) private readonly repository: Repository<LostReason>,
  ) {}

  onModuleInit(): void {
    if (this.options.hooks) this.repository.manager.connection.subscribers.push(this);
  }

  /** Runs the hook now, or when the transaction `manager` belongs to commits. */
  async afterCommit<K extends HookName>(
    manager: EntityManager,
    name: K,
    payload: Parameters<NonNullable<LostReasonHooks[K]>>[0],
    tenant: string | undefined,
  ): Promise<void> {
    const hook = this.options.hooks?.[name] as ((value: typeof payload, context: LostReasonHookContext) => unknown) | undefined;
    if (!hook) return;
    const fire: Fire = async () => {
      try {
        await hook.call(this.options.hooks, payload, { tenant });
      } catch (error) {
        // The write is committed: a failing hook must not turn its success into an error.
        this.logger.error(`The "${name}" hook failed: ${error instanceof Error ? error.stack : String(error)}`);
      }
    };
    const runner = manager.queryRunner;
    if (runner?.isTransactionActive) this.pending.set(runner, [...(this.pending.get(runner) ?? []), fire]);
    else await fire();
  }

  async afterTransactionCommit({ queryRunner }: TransactionCommitEvent): Promise<void> {
    // TypeORM also reports releasing a savepoint as a commit: wait for the outermost one.
    if (queryRunner.isTransactionActive) return;
    const fires = this.pending.get(queryRunner) ?? [];
    this.pending.delete(queryRunner);
    for (const fire of fires) await fire();
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    if (!queryRunner.isTransactionActive) this.pending.delete(queryRunner);
  }
}
