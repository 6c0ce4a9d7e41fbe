import { EntityMetadata } from 'typeorm';
import { countTableOf, quotePath } from './count-table.locator';
import { onPooledConnection } from './pooled-connection.util';
import { LostReasonDialect } from './dialects/dialect.interface';
import { dialectOf } from './dialects/dialect.registry';
import type { LostReason } from './lost-reason.entity';

/** The public columns, in the order of the public object. */
export const PUBLIC_COLUMNS = ['id', 'created_at', 'updated_at', 'lost_reason'] as const;

/** A stored object's public columns, as the database returns them. */
export type LostReasonRow = Pick<LostReason, (typeof PUBLIC_COLUMNS)[number]>;

/** An UPDATE with and without `lost_reason` among the columns it sets. */
export interface UpdateVariants {
  withLostReason: string;
  timestampOnly: string;
}

/** Which way a cursor page reads: older than the cursor (`starting_after`) or newer. */
export type CursorDirection = 'after' | 'before';

/**
 * The SQL of the store's operations, written once per data source from the entity's metadata
 * (table path, column names after the host's naming strategy, the driver's quoting and
 * placeholders) and its dialect. The hot paths run these fixed strings instead of building each
 * query with TypeORM's query builder on every call: the profile showed that builder as the
 * module's largest cost of its own. Portable SQL, except what the dialect writes
 * (`updateAdvancing`) and the statements only a dialect that `findsRowFirst` uses.
 */
export class LostReasonStatements {
  private static readonly cache = new WeakMap<EntityMetadata, Promise<LostReasonStatements>>();

  /**
   * The statements of `metadata`'s table, built on first use, with the count table found then
   * (`countTableOf`; without one, totals come from `COUNT(*)`), and causal reads on a cluster
   * that needs them (the dialect's `causalReadPrefix`).
   */
  static of(metadata: EntityMetadata, timeoutMs?: number): Promise<LostReasonStatements> {
    let statements = this.cache.get(metadata);
    if (!statements) {
      statements = this.build(metadata, timeoutMs);
      this.cache.set(metadata, statements);
      // A failed or timed-out look-up (the database unreachable at that moment) is retried by the next call.
      statements.catch(() => this.cache.delete(metadata));
    }
    return statements;
  }

  /**
   * The look-ups run as a request's statements do: on a guarded pooled connection, within the
   * deadline. Unguarded, one look-up on a connection that died silently would never settle, and
   * every later call would wait on it.
   */
  private static async build(metadata: EntityMetadata, timeoutMs: number | undefined): Promise<LostReasonStatements> {
    const dialect = dialectOf(metadata.connection);
    const { counterPath, causalRead } = await onPooledConnection(metadata.connection, 'master', timeoutMs, async (runner) => ({
      counterPath: await countTableOf(runner, metadata, dialect),
      causalRead: await dialect.causalReadPrefix?.(runner),
    }));
    return new LostReasonStatements(metadata, dialect, counterPath, causalRead);
  }

  /** Params: tenant, id, created_at, updated_at, lost_reason. */
  readonly insert: string;
  /** The object with its primary key (`seq`, for writes by key). Params: id, tenant. */
  readonly retrieve: string;
  /** The first page, with the total of the tenant's objects on every row. Params: tenant, tenant, limit. */
  readonly firstPage: string;
  /** A page at an offset, with the total on every row. Params: tenant, tenant, limit, offset. */
  readonly pageAtOffset: string;
  /** Params: tenant. */
  readonly count: string;
  /** The cursor's sort key and the total. Params: tenant, id, tenant. */
  readonly cursorPosition: string;
  /** A page next to a cursor, nearest first. Params: tenant, created_at ×3, seq, limit. */
  readonly pageNextTo: Record<CursorDirection, string>;
  /** `findsRowFirst`: the row locked for update, by primary key (and tenant). Params: seq, tenant. */
  readonly lockBySeq: string;
  /** Params: id, tenant. */
  readonly delete: string;
  /** `findsRowFirst`: deletes the row found by `retrieve`. Params: seq, tenant. */
  readonly deleteBySeq: string;

  /**
   * Sets `lost_reason` and moves `updated_at` to the dialect's `advancedTimestamp`, returning the
   * public columns. One statement that never loses a race: a concurrent update of the row is
   * waited for, then stepped past. Params: now[, lost_reason], id, tenant. Empty where the
   * dialect `findsRowFirst`.
   */
  readonly updateAdvancing: UpdateVariants;
  /**
   * `findsRowFirst`: the compare-and-set update of the row read by `retrieve`, if its `updated_at`
   * is still the one read. Params: updated_at[, lost_reason], seq, tenant, updated_at read.
   */
  readonly updateBySeqIfUnchanged: UpdateVariants;
  /** `findsRowFirst`: the update of a row locked by `lockBySeq`. Params: updated_at[, lost_reason], seq, tenant. */
  readonly updateBySeq: UpdateVariants;
  /**
   * The statements sent through TypeORM's `query()`, not as the module's prepared statements, so
   * PostgreSQL plans them for their own parameters on every call: its generic plan of a prepared
   * `LIMIT … OFFSET` does not know the offset, and walked to offset 9,000 at 0.70–0.75x the req/s.
   */
  readonly plannedEachCall: ReadonlySet<string>;

  private readonly publicColumns: string;

  /**
   * `counterPath`: the count table kept by triggers, when the migration (or the dialect) created it.
   * `causalRead`: the prefix of every plain read, so that a read through any node of a cluster
   * sees the writes acknowledged before it (by an update or delete, which reads its row first, too).
   */
  private constructor(
    private readonly metadata: EntityMetadata,
    readonly dialect: LostReasonDialect,
    counterPath?: string,
    causalRead = '',
  ) {
    const column = (property: string) => this.column(property);
    const table = this.path(metadata.tablePath);
    const [seq, tenant, id, createdAt] = ['seq', 'tenant_id', 'id', 'created_at'].map(column);
    this.publicColumns = PUBLIC_COLUMNS.map((name) => `${column(name)} AS ${this.quote(name)}`).join(', ');
    const selectPublic = `SELECT ${this.publicColumns} FROM ${table}`;
    const read = (select: string) => this.sql(causalRead + select);
    // The tenant's count: a sum over its few counter rows, or a scan of its objects.
    const countOfTenant = counterPath
      ? `(SELECT COALESCE(SUM(${this.quote('n')}), 0) FROM ${this.path(counterPath)} WHERE ${this.quote('tenant_id')} = ?)`
      : `(SELECT COUNT(*) FROM ${table} WHERE ${tenant} = ?)`;

    this.insert = this.sql(`INSERT INTO ${table} (${[tenant, ...PUBLIC_COLUMNS.map(column)].join(', ')}) VALUES (?, ?, ?, ?, ?)`);
    this.retrieve = read(`SELECT ${seq} AS ${this.quote('seq')}, ${this.publicColumns} FROM ${table} WHERE ${id} = ? AND ${tenant} = ?`);
    const newestFirst = `ORDER BY ${createdAt} DESC, ${seq} DESC`;
    this.firstPage = read(
      `SELECT ${this.publicColumns}, ${countOfTenant} AS ${this.quote('total')} FROM ${table} WHERE ${tenant} = ? ${newestFirst} LIMIT ?`,
    );
    // A deferred join: the skipped rows are walked in the index alone (it holds tenant_id,
    // created_at and the primary key seq), and only the page's rows are read from the table.
    // MariaDB otherwise fetches every skipped row (4x slower at offset 9,000 of 10,000).
    const pageSeq = this.quote('page_seq');
    this.pageAtOffset = read(
      `SELECT ${this.publicColumns}, ${countOfTenant} AS ${this.quote('total')} FROM ${table} ` +
        `INNER JOIN (SELECT ${seq} AS ${pageSeq} FROM ${table} WHERE ${tenant} = ? ${newestFirst} LIMIT ? OFFSET ?) ${this.quote('page')} ` +
        `ON ${seq} = ${pageSeq} ${newestFirst}`,
    );
    this.plannedEachCall = new Set([this.pageAtOffset]);
    this.count = read(`SELECT ${countOfTenant} AS ${this.quote('total')}`);
    this.cursorPosition = read(
      `SELECT ${createdAt} AS ${this.quote('created_at')}, ${seq} AS ${this.quote('seq')}, ${countOfTenant} AS ${this.quote('total')} ` +
        `FROM ${table} WHERE ${id} = ? AND ${tenant} = ?`,
    );
    // The plain bound on created_at lets the database walk the index as a range from the
    // cursor instead of filtering every row before it (measured in bench/MILLION.md).
    const nextTo = (compare: '<' | '>', direction: 'DESC' | 'ASC') =>
      read(
        `${selectPublic} WHERE ${tenant} = ? AND ${createdAt} ${compare}= ? ` +
          `AND (${createdAt} ${compare} ? OR (${createdAt} = ? AND ${seq} ${compare} ?)) ` +
          `ORDER BY ${createdAt} ${direction}, ${seq} ${direction} LIMIT ?`,
      );
    this.pageNextTo = { after: nextTo('<', 'DESC'), before: nextTo('>', 'ASC') };
    // By primary key, and the tenant again: the row was found for this tenant, and checking it
    // costs nothing next to the key.
    const bySeq = `${seq} = ? AND ${tenant} = ?`;
    this.lockBySeq = this.sql(`${selectPublic} WHERE ${bySeq} FOR UPDATE`);
    this.delete = this.sql(`DELETE FROM ${table} WHERE ${id} = ? AND ${tenant} = ?`);
    this.deleteBySeq = this.sql(`DELETE FROM ${table} WHERE ${bySeq}`);

    const [updatedAt, lostReason] = ['updated_at', 'lost_reason'].map(column);
    const update = (setLostReason: boolean, where: string) =>
      this.sql(`UPDATE ${table} SET ${updatedAt} = ?${setLostReason ? `, ${lostReason} = ?` : ''} WHERE ${where}`);
    this.updateAdvancing = { withLostReason: '', timestampOnly: '' };
    if (dialect.advancedTimestamp) {
      const advanced = dialect.advancedTimestamp(updatedAt);
      const advance = (setLostReason: boolean) =>
        this.sql(
          `UPDATE ${table} SET ${updatedAt} = ${advanced}${setLostReason ? `, ${lostReason} = ?` : ''} ` +
            `WHERE ${id} = ? AND ${tenant} = ? RETURNING ${this.publicColumns}`,
        );
      this.updateAdvancing = { withLostReason: advance(true), timestampOnly: advance(false) };
    }
    this.updateBySeq = { withLostReason: update(true, bySeq), timestampOnly: update(false, bySeq) };
    const bySeqIfUnchanged = `${bySeq} AND ${updatedAt} = ?`;
    this.updateBySeqIfUnchanged = { withLostReason: update(true, bySeqIfUnchanged), timestampOnly: update(false, bySeqIfUnchanged) };
  }

  private quote(name: string): string {
    return this.metadata.connection.driver.escape(name);
  }

  private column(property: string): string {
    const column = this.metadata.findColumnWithPropertyName(property);
    if (!column) throw new Error(`LostReasonStatements: the entity has no column "${property}".`);
    return this.quote(column.databaseName);
  }

  private path(tablePath: string): string {
    return quotePath(this.metadata, tablePath);
  }

  /** `?` placeholders in the driver's own style (`$1, $2, …` on PostgreSQL). */
  private sql(template: string): string {
    let index = 0;
    return template.replace(/\?/g, () => this.metadata.connection.driver.createParameter(`p${index}`, index++));
  }
}
