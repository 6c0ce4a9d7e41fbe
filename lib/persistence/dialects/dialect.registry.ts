import { DataSource, QueryFailedError } from 'typeorm';
import { DriverError, LostReasonDialect } from './dialect.interface';
import { mysqlDialect } from './mysql.dialect';
import { postgresDialect } from './postgres.dialect';
import { betterSqlite3Dialect, sqliteDialect } from './sqlite.dialect';

/** Every database family the module runs on. */
export const DIALECTS: readonly LostReasonDialect[] = [postgresDialect, mysqlDialect, betterSqlite3Dialect, sqliteDialect];

const chosen = new WeakMap<DataSource, LostReasonDialect>();

/** The dialect of a data source, chosen on first use; an `Error` naming the type for a database the module does not support. */
export function dialectOf(dataSource: DataSource): LostReasonDialect {
  let dialect = chosen.get(dataSource);
  if (!dialect) {
    const { type } = dataSource.options;
    dialect = DIALECTS.find(({ driverTypes }) => driverTypes.includes(type));
    if (!dialect) {
      throw new Error(
        `LostReasonModule runs on ${[...new Set(DIALECTS.map(({ name }) => name))].join(', ')}; this data source's type is "${type}".`,
      );
    }
    chosen.set(dataSource, dialect);
  }
  return dialect;
}

/** The driver's own error inside TypeORM's `QueryFailedError`, if it is one. */
export const driverErrorOf = (error: unknown): DriverError | undefined =>
  error instanceof QueryFailedError ? error.driverError : undefined;
