import type { DataSourceOptions } from 'typeorm';

/**
 * TypeORM connection options from a URL: postgres://… (pg) or mysql://… / mariadb://… (mysql2).
 * Shared by the app (TypeOrmModule) and the TypeORM CLI (data-source.ts).
 */
export function databaseOptions(url: string): DataSourceOptions {
  const { protocol } = new URL(url);
  switch (protocol) {
    case 'postgres:':
    case 'postgresql:':
      return { type: 'postgres', url, connectTimeoutMS: 2000 };
    case 'mysql:':
    case 'mariadb:':
      return { type: 'mariadb', url, connectTimeout: 2000 };
    default:
      throw new Error(`DATABASE_URL: unsupported database ${protocol}`);
  }
}
