import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';

/** Where the sample keeps its SQLite file when DATABASE_URL is not set. */
export const DEFAULT_SQLITE_FILE = resolve(__dirname, '..', 'sample', 'data', 'lost-reasons.sqlite');

/**
 * A sample owns its connection, so it sets what the module cannot (docs/faults-and-scaling.md, "Database faults"):
 * connect timeouts below the module's 10 s deadline, and TCP keep-alive to find dead idle
 * connections.
 */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * TypeORM options from a DATABASE_URL: `sqlite:PATH`, `sqlite::memory:`, `postgres://…`,
 * `mysql://…` or `mariadb://…`. Unset means an SQLite file under sample/data.
 */
export function databaseOptionsFromUrl(url = `sqlite:${DEFAULT_SQLITE_FILE}`): DataSourceOptions {
  const [scheme] = url.split(':', 1);
  switch (scheme) {
    case 'sqlite': {
      const database = url.slice('sqlite:'.length);
      if (database !== ':memory:') mkdirSync(dirname(resolve(database)), { recursive: true });
      return { type: 'better-sqlite3', database };
    }
    case 'postgres':
    case 'postgresql':
      return { type: 'postgres', url, connectTimeoutMS: CONNECT_TIMEOUT_MS, extra: { keepAlive: true } };
    case 'mysql':
    case 'mariadb':
      return {
        type: 'mariadb',
        url: url.replace(/^mariadb:/, 'mysql:'),
        connectTimeout: CONNECT_TIMEOUT_MS,
        extra: { enableKeepAlive: true },
      };
    default:
      throw new Error(`DATABASE_URL must start with sqlite:, postgres://, mysql:// or mariadb:// (got "${scheme}:…")`);
  }
}
