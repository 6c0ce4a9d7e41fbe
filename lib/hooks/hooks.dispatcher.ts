import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  Repository,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
} from 'typeorm';
import { LostReasonHookContext, LostReasonHooks } from '../interfaces/lost-reason-module-options.interface';
import { LOST_REASON_REPOSITORY, LOST_REASON_RESOLVED_OPTIONS } from '../common/lost-reason.constants';
import { LostReason } from '../persistence/lost-reason.entity';
import { ResolvedLostReasonOptions } from '../interfaces/resolved-lost-reason-options.interface';

type HookName = keyof LostReasonHooks;
type Fire = () => Promise<void>;

/**
 * Calls the host's hooks once a write is committed. A write made on the host's own
 * transaction (`LostReasonService.withManager`) is committed only with that transaction, so
 * its hooks wait for it, through a TypeORM subscriber that follows each transaction level:
 * a rolled-back savepoint drops the hooks of the writes made in it, the outermost commit runs
 * the rest. No hook is awaited, in or out of a transaction: a slow hook never holds a
 * connection, delays a commit or an answer, or fails it.
 */
@Injectable()
export class LostReasonHooksDispatcher implements EntitySubscriberInterface, OnModuleInit {
  private readonly logger = new Logger('LostReasonModule');
  /** Per connection inside a transaction: the hooks of each open level, innermost last. */
  private readonly pending = new WeakMap<QueryRunner, Fire[][]>();

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
    if (!runner?.isTransactionActive) {
      void fire();
      return;
    }
    const levels = this.pending.get(runner) ?? [];
    if (levels.length === 0) levels.push([]);
    levels[levels.length - 1].push(fire);
    this.pending.set(runner, levels);
  }

  afterTransactionStart({ queryRunner }: TransactionStartEvent): void {
    this.pending.set(queryRunner, [...(this.pending.get(queryRunner) ?? []), []]);
  }

  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    const levels = this.pending.get(queryRunner) ?? [];
    const committed = levels.pop() ?? [];
    // Releasing a savepoint: its hooks now wait for the level around it.
    if (queryRunner.isTransactionActive && levels.length > 0) {
      levels[levels.length - 1].push(...committed);
      return;
    }
    this.pending.delete(queryRunner);
    // Not awaited: TypeORM awaits this subscriber before it releases the connection and before
    // the transaction's caller (the module's request, or the host's) goes on.
    for (const fire of committed) void fire();
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    const levels = this.pending.get(queryRunner);
    levels?.pop();
    if (!queryRunner.isTransactionActive) this.pending.delete(queryRunner);
  }
}
