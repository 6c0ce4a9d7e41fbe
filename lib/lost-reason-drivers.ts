/** TypeORM's SQLite drivers: one connection shared by all callers, so no module transactions there. */
export const isSqlite = (type: string): boolean => type === 'better-sqlite3' || type === 'sqlite' || type === 'sqljs';

/** MySQL and MariaDB: no UPDATE … RETURNING, and locking reads lock the index entries they scan. */
export const isMysqlFamily = (type: string): boolean => type === 'mysql' || type === 'mariadb';
