import { Logger } from '@nestjs/common';
import { EntityMetadata, QueryRunner } from 'typeorm';
import { LostReasonDialect } from './dialects/dialect.interface';

/** The count table's name: the module's table's, and this (see the migration that creates it). */
const COUNTER_TABLE_SUFFIX = '_count';

/** `schema.table` (or `table`) quoted part by part for the entity's driver. */
export const quotePath = (metadata: EntityMetadata, tablePath: string): string =>
  tablePath
    .split('.')
    .map((part) => metadata.connection.driver.escape(part))
    .join('.');

/**
 * The path of the count table that `CountOpportunityLostReasons1764374400000` creates and its
 * triggers keep, if the table has them; else `undefined`, and totals come from `COUNT(*)`. A host
 * on `synchronize` has none, unless the dialect keeps the count itself (SQLite: it is set up
 * here, or `COUNT(*)` if it cannot be, on a read-only database).
 */
export async function countTableOf(runner: QueryRunner, metadata: EntityMetadata, dialect: LostReasonDialect): Promise<string | undefined> {
  const counterPath = `${metadata.tablePath}${COUNTER_TABLE_SUFFIX}`;
  const hasCounter = await runner.hasTable(counterPath);
  const counted = hasCounter && (await hasCountTrigger(runner, metadata, dialect));
  if (!counted && dialect.keepCounts) {
    const tenantColumn = metadata.findColumnWithPropertyName('tenant_id')?.databaseName ?? 'tenant_id';
    try {
      await dialect.keepCounts(runner, { path: metadata.tablePath, tenantColumn });
      return counterPath;
    } catch (error) {
      new Logger('LostReasonModule').warn(
        `Could not set up ${counterPath} (${error instanceof Error ? error.message : String(error)}): totals use COUNT(*).`,
      );
      return undefined;
    }
  }
  if (hasCounter && !counted) {
    new Logger('LostReasonModule').warn(
      `${counterPath} exists, but ${metadata.tablePath} has no count trigger this connection can see (the table was ` +
        'created again without the migration, or, on MySQL/MariaDB, the user lacks the TRIGGER privilege): totals use COUNT(*).',
    );
  }
  return counted ? counterPath : undefined;
}

/**
 * Whether the table still has the migration's insert trigger. A table dropped and created
 * again (by hand, or by `synchronize` after it) has lost its triggers while the count table
 * stays behind: counting with it would go stale.
 */
function hasCountTrigger(runner: QueryRunner, metadata: EntityMetadata, dialect: LostReasonDialect): Promise<boolean> {
  const [schema, name] = metadata.tablePath.includes('.') ? metadata.tablePath.split('.') : [undefined, metadata.tablePath];
  const table = { quotedPath: quotePath(metadata, metadata.tablePath), schema, name };
  return dialect.hasTrigger(runner, table, `${metadata.tableName}${COUNTER_TABLE_SUFFIX}_insert`);
}
