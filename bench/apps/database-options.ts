import type { DataSourceOptions } from 'typeorm';

/**
 * TypeORM options from DATABASE_URL (`sqlite:PATH`, `postgres://…`, `mysql://…`), the same
 * mapping as sample/database-options.ts (duplicated: the bench compiles on its own).
 */
export function databaseOptionsFromUrl(url = process.env.DATABASE_URL ?? ''): DataSourceOptions {
  const [scheme] = url.split(':', 1);
  switch (scheme) {
    case 'sqlite':
      return { type: 'better-sqlite3', database: url.slice('sqlite:'.length) };
    case 'postgres':
    case 'postgresql':
      return { type: 'postgres', url };
    case 'mysql':
    case 'mariadb':
      return { type: 'mariadb', url: url.replace(/^mariadb:/, 'mysql:') };
    default:
      throw new Error(`DATABASE_URL must start with sqlite:, postgres:// or mysql:// (got "${url}")`);
  }
}

export const apiKeysFromEnv = (): string[] =>
  (process.env.API_KEYS ?? 'sk_test_bench')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);

export const portFromEnv = (): number => Number(process.env.PORT ?? 3500);
