import { QueryFailedError } from 'typeorm';

/** TypeORM's SQLite drivers: one connection shared by all callers, so no module transactions there. */
export const isSqlite = (type: string): boolean => type === 'better-sqlite3' || type === 'sqlite' || type === 'sqljs';

/** MySQL and MariaDB: no UPDATE … RETURNING, and locking reads lock the index entries they scan. */
export const isMysqlFamily = (type: string): boolean => type === 'mysql' || type === 'mariadb';

/** The driver's own error inside TypeORM's `QueryFailedError` (its `code`, `errno`), if it is one. */
export const driverErrorOf = (error: unknown): { code?: unknown; errno?: unknown } | undefined =>
  error instanceof QueryFailedError ? error.driverError : undefined;
